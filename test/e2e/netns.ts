// A network namespace the test bed makes for one suite, so that a server can have an address the
// apiserver may use as an endpoint (endpoints may not be loopback addresses) while traffic stays on
// this machine: a veth pair, 10.213.<n>.1 on the host side (only a route: nothing listens there),
// 10.213.<n>.2 inside. Inside, the host's loopback ports the server needs (the apiserver, ORCA's
// kubelet API) are relayed: a small process in the namespace listens on its own loopback and hands
// each connection to this process (Node's IPC passes the socket), which connects it to the host's
// loopback. Needs root (ip netns).
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { connect, type Socket } from 'node:net';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** Listens on the namespace's loopback for each port, and passes every connection to the parent. */
const relayCode = `
const net = require('node:net');
for (const port of JSON.parse(process.argv[1])) {
  net.createServer({ pauseOnConnect: true }, (s) => { process.send({ port }, s); })
    .listen(port, '127.0.0.1', () => { process.send({ listening: port }); });
}`;

export class NetworkNamespace {
  readonly #children: ChildProcess[] = [];

  private constructor(readonly name: string, readonly hostVeth: string, readonly address: string) {}

  /** Creates the namespace and its veth pair; `n` (1–250) picks the /30 subnet. */
  static async create(name: string, n: number): Promise<NetworkNamespace> {
    const host = `veth-${name}`.slice(0, 15);
    const peer = `vpeer-${name}`.slice(0, 15);
    const steps = [
      ['netns', 'add', name], ['-n', name, 'link', 'set', 'lo', 'up'],
      ['link', 'add', host, 'type', 'veth', 'peer', 'name', peer], ['link', 'set', peer, 'netns', name],
      ['addr', 'add', `10.213.${String(n)}.1/30`, 'dev', host], ['link', 'set', host, 'up'],
      ['-n', name, 'addr', 'add', `10.213.${String(n)}.2/30`, 'dev', peer], ['-n', name, 'link', 'set', peer, 'up'],
    ];
    const ns = new NetworkNamespace(name, host, `10.213.${String(n)}.2`);
    try {
      for (const s of steps) await run('ip', s);
    } catch (e) {
      await ns.destroy();
      throw new Error(`could not make network namespace ${name} (root is needed): ${e instanceof Error ? e.message : String(e)}`, { cause: e });
    }
    return ns;
  }

  /** Makes each host loopback port reachable on the namespace's own loopback, same number. */
  async relayLoopback(ports: readonly number[]): Promise<void> {
    const child = spawn('ip', ['netns', 'exec', this.name, process.execPath, '-e', relayCode, JSON.stringify(ports)], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
    this.#children.push(child);
    const listening = new Set<number>();
    await new Promise<void>((resolve, reject) => {
      child.once('exit', (code) => { reject(new Error(`the relay in ${this.name} exited with ${String(code)}`)); });
      child.on('message', (m: { listening?: number; port?: number }, socket?: Socket) => {
        if (m.listening !== undefined) {
          listening.add(m.listening);
          if (listening.size === ports.length) resolve();
        } else if (m.port !== undefined && socket !== undefined) {
          const upstream = connect(m.port, '127.0.0.1');
          upstream.on('error', () => { socket.destroy(); });
          socket.on('error', () => { upstream.destroy(); });
          socket.pipe(upstream).pipe(socket);
          socket.resume();
        }
      });
    });
  }

  /** Runs a program inside the namespace. */
  spawn(command: string, args: readonly string[]): ChildProcess {
    const child = spawn('ip', ['netns', 'exec', this.name, command, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    this.#children.push(child);
    return child;
  }

  /** Stops what runs inside and removes the namespace and its veth pair. */
  async destroy(): Promise<void> {
    for (const c of this.#children) c.kill('SIGKILL');
    await run('ip', ['link', 'del', this.hostVeth]).catch(() => undefined);
    await run('ip', ['netns', 'del', this.name]).catch(() => undefined);
  }
}
