# ORCA's image: built on the current Node.js LTS (24), run as a non-root user (65532) with a
# read-only root filesystem in mind: ORCA writes no file (its logs go to stdout); HOME is /tmp.
# The code also runs on Node.js >= 20.19. No Docker engine runs in CI: scripts/ci/production-install.sh
# proves the runtime stage's install instead (the same files, the same `npm ci --omit=dev`, the CLI
# run as user 65532 with HOME=/tmp in a directory it cannot write).

# Compiles src/ to dist/ with the development dependencies (TypeScript).
FROM node:24-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

# The production dependencies only, from the lockfile.
FROM node:24-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund

# What main.ts reads at start: package.json (the version), dist/, instance-catalog/, agent/.
FROM node:24-bookworm-slim
ENV NODE_ENV=production HOME=/tmp
WORKDIR /app
COPY package.json package-lock.json ./
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /src/dist ./dist
COPY instance-catalog ./instance-catalog
COPY agent ./agent
USER 65532:65532
EXPOSE 8080 10250
ENTRYPOINT ["node", "/app/dist/main.js"]
CMD ["--config", "/etc/orca/config.yaml"]
