#!/usr/bin/env python3
# A user at a terminal, for e2e tests (a test component): runs a command (kubectl exec -it …) on a
# pseudo-terminal of a given size and plays a scenario against it — type text, wait for output
# matching a pattern, resize the terminal (the kernel then sends the command SIGWINCH, as a real
# terminal does) — then exits with the command's exit status. The transcript goes to stderr.
# Usage: tty-driver.py '<scenario JSON>' command args…
#   scenario: {"rows": 24, "cols": 80, "timeout": 60,
#              "steps": [{"send": "stty size\n"}, {"expect": "24 80"}, {"resize": [30, 100]}, …]}
import fcntl, json, os, re, select, signal, struct, subprocess, sys, termios, time


def set_size(fd, rows, cols):
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack('HHHH', rows, cols, 0, 0))


def controlling(slave):
    def setup():
        os.setsid()
        fcntl.ioctl(slave, termios.TIOCSCTTY, 0)
    return setup


def read_some(master, deadline):
    left = max(0.0, deadline - time.time())
    ready, _, _ = select.select([master], [], [], min(left, 0.2))
    if not ready:
        return b''
    try:
        return os.read(master, 65536)
    except OSError:
        return None


def main():
    scenario = json.loads(sys.argv[1])
    master, slave = os.openpty()
    set_size(master, scenario.get('rows', 24), scenario.get('cols', 80))
    child = subprocess.Popen(sys.argv[2:], stdin=slave, stdout=slave, stderr=slave, preexec_fn=controlling(slave), close_fds=True)
    os.close(slave)
    seen = b''
    timeout = scenario.get('timeout', 60)
    for step in scenario['steps']:
        if 'send' in step:
            os.write(master, step['send'].encode())
        elif 'resize' in step:
            set_size(master, step['resize'][0], step['resize'][1])
        elif 'sleep' in step:
            time.sleep(step['sleep'])
        elif 'expect' in step:
            deadline = time.time() + timeout
            pattern = re.compile(step['expect'].encode())
            while not pattern.search(seen):
                chunk = read_some(master, deadline)
                if chunk is None or time.time() > deadline:
                    sys.stderr.write(seen.decode(errors='replace'))
                    sys.stderr.write('\n[tty-driver] timed out waiting for %r\n' % step['expect'])
                    child.kill()
                    sys.exit(99)
                seen += chunk
            seen = seen[pattern.search(seen).end():]
    deadline = time.time() + timeout
    while child.poll() is None and time.time() < deadline:
        chunk = read_some(master, deadline)
        if chunk is None:
            break
        seen += chunk
    try:
        code = child.wait(max(0.1, deadline - time.time()))
    except subprocess.TimeoutExpired:
        child.kill()
        sys.stderr.write('\n[tty-driver] the command did not exit\n')
        sys.exit(98)
    sys.stderr.write(seen.decode(errors='replace'))
    sys.exit(code if code >= 0 else 128 - code)


if __name__ == '__main__':
    main()
