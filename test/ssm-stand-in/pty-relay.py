"""Test double of AWS Session Manager: the pseudo-terminal an SSM agent runs a shell-type session under.

Part of the test bed's Session Manager stand-in (test/ssm-stand-in/), never shipped. Node has no pty,
so the stand-in runs `python3 pty-relay.py <control fd | -> <commands>`: it starts `sh -c <commands>`
on a new pty in the default (cooked) mode, as the real agent does with creack/pty, and relays bytes:
its stdin to the pty, the pty's output to its stdout. The control fd carries resize requests, one
"<cols> <rows>" line each, applied with TIOCSWINSZ (the kernel then sends SIGWINCH). It exits with the command's exit status
(128 + n after signal n). The end of its stdin, SIGTERM or SIGHUP mean the session is over: the
command's process group is killed first, so nothing outlives the session: the relay is a child
subreaper, so it also kills and reaps descendants that left the group, and leaves no zombie behind.
"""

import ctypes
import errno
import fcntl
import os
import pty
import select
import signal
import struct
import sys
import termios
import time

# Client input waiting for room in the pty; stdin is not read while this much waits.
PENDING_LIMIT = 1 << 20
PR_SET_CHILD_SUBREAPER = 36


def become_subreaper():
    try:
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    except (OSError, AttributeError):
        pass


def children():
    """Pids whose parent is this process (descendants re-parented to it included)."""
    me = str(os.getpid())
    found = []
    for entry in os.listdir("/proc"):
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if fields[1] == me:
            found.append(int(entry))
    return found


def kill_all(pid):
    """Kills the command's group, then every remaining descendant, and reaps them all (within a second)."""
    try:
        os.killpg(pid, signal.SIGKILL)
    except OSError:
        pass
    deadline = time.monotonic() + 1
    while time.monotonic() < deadline:
        try:
            done, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if done == 0:
            for child in children():
                try:
                    os.kill(child, signal.SIGKILL)
                except OSError:
                    pass
            time.sleep(0.01)


def write_all(fd, data):
    while data:
        written = os.write(fd, data)
        data = data[written:]


def resize(master, line):
    try:
        cols, rows = (int(x) for x in line.split())
    except ValueError:
        return
    fcntl.ioctl(master, termios.TIOCSWINSZ, struct.pack("HHHH", rows & 0xFFFF, cols & 0xFFFF, 0, 0))


class Relay:
    def __init__(self, pid, master, control):
        self.pid = pid
        self.master = master
        self.control_buf = b""
        self.pending = bytearray()
        self.status = None
        self.control_fd = control
        # Reads and writes never block, so a full pty input queue cannot stall the output.
        os.set_blocking(master, False)

    def readers(self):
        fds = [self.master]
        if len(self.pending) < PENDING_LIMIT:
            fds.append(0)
        if self.control_fd is not None:
            fds.append(self.control_fd)
        return fds

    def end(self, code):
        kill_all(self.pid)
        os._exit(code)

    def from_pty(self):
        """Copies pty output to stdout; False once the pty is hung up (every slave closed)."""
        try:
            data = os.read(self.master, 65536)
        except BlockingIOError:
            return True
        except OSError as e:
            if e.errno != errno.EIO:
                raise
            data = b""
        if not data:
            return False
        try:
            write_all(1, data)
        except OSError:
            self.end(1)
        return True

    def from_stdin(self):
        data = os.read(0, 65536)
        if not data:
            self.end(1)
        self.pending += data

    def to_pty(self):
        try:
            written = os.write(self.master, self.pending)
        except BlockingIOError:
            return
        except OSError:
            written = len(self.pending)  # the pty is gone: the input has nowhere to go
        del self.pending[:written]

    def from_control(self):
        data = os.read(self.control_fd, 4096)
        if not data:
            self.control_fd = None
            return
        self.control_buf += data
        *lines, self.control_buf = self.control_buf.split(b"\n")
        for line in lines:
            resize(self.master, line.decode("ascii", "replace"))

    def exit_code(self):
        code = os.waitstatus_to_exitcode(self.status)
        return code if code >= 0 else 128 - code

    def run(self):
        while True:
            writers = [self.master] if self.pending else []
            ready, writable, _ = select.select(self.readers(), writers, [], 0.05)
            if self.master in ready and not self.from_pty():
                break
            if 0 in ready:
                self.from_stdin()
            if self.control_fd is not None and self.control_fd in ready:
                self.from_control()
            if writable:
                self.to_pty()
            if self.status is None:
                done, status = os.waitpid(self.pid, os.WNOHANG)
                if done:
                    self.status = status
            elif self.master not in ready:
                break  # the command is gone and its pty has been quiet for a poll
        if self.status is None:
            _, self.status = os.waitpid(self.pid, 0)
        self.end(self.exit_code())


def main():
    if len(sys.argv) != 3 or not (sys.argv[1] == "-" or sys.argv[1].isdigit()):
        sys.stderr.write("usage: pty-relay.py <control fd | -> <commands>\n")
        return 2
    control = None if sys.argv[1] == "-" else int(sys.argv[1])
    if control is not None:
        os.set_inheritable(control, False)
    become_subreaper()
    pid, master = pty.fork()
    if pid == 0:
        try:
            os.execvp("sh", ["sh", "-c", sys.argv[2]])
        finally:
            os._exit(127)
    relay = Relay(pid, master, control)
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, lambda *_: relay.end(143))
    relay.run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
