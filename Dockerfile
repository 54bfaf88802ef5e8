# ORCA's image: built on the current Node.js LTS (24), run as a non-root user with a read-only root
# filesystem in mind (nothing is written outside /tmp). The code also runs on Node.js >= 20.19.
FROM node:24-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build && npm prune --omit=dev

FROM node:24-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /src/package.json ./
COPY --from=build /src/node_modules ./node_modules
COPY --from=build /src/dist ./dist
COPY instance-catalog ./instance-catalog
COPY agent ./agent
USER 65532:65532
EXPOSE 8080 10250
ENTRYPOINT ["node", "/app/dist/main.js"]
CMD ["--config", "/etc/orca/config.yaml"]
