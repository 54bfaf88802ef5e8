# orca-exec: the exec helper of a burst instance, for kubectl exec, attach and cp (Python 3.8+,
# standard library only). ORCA starts it through its Session document ORCA-Exec-v1 (an SSM
# InteractiveCommands session, so its stdin and stdout are the SSM agent's pty, whose output path
# alters some byte sequences and may drop trailing bytes): the document's shell sets the pty raw,
# prints ORCA-EXEC-BOOT and runs a small loader that reads one line (a nonce and this file,
# zlib-compressed and base64-encoded) and executes it. ORCA's half is src/agent-protocol/
# exec-helper.ts (the document, the frames) and exec-client.ts.
#
# Every frame is one ASCII line, binary data in base64, so the pty cannot change it:
#   helper -> ORCA: "ORCA1 HELLO <nonce> <version>", "R" (started), "F <b64 message>" (failed),
#                   "O <b64>" / "E <b64>" (stdout / stderr), "X <code> [<signal>]" (ended)
#   ORCA -> helper: "S <base64url JSON spec>", "I <b64>" (stdin), "C" (stdin EOF),
#                   "W <cols> <rows>", "K <signal>", "Q" (X received)
# The child is `docker exec` or `docker attach --sig-proxy=false`, with pipes (stdin /dev/null when
# not asked for) or, with tty, an inner pty (W resizes it; C writes VEOF). An O/E frame carries up
# to 32 KiB: the agent cuts the pty's output into 1 KiB messages anyway, and ORCA reassembles lines
# of any length, so larger frames only save per-frame work here (Python is the slow end).
import base64
import errno
import fcntl
import json
import os
import pty
import re
import selectors
import signal
import struct
import subprocess
import sys
import termios
import time
import tty

VERSION = "1"
FRAME_BYTES = 32 * 1024
MAX_LINE = 2 * 1024 * 1024
STDIN_BACKLOG = 1024 * 1024
SPEC_WAIT_S = 60.0
QUIT_WAIT_S = 5.0
DRAIN_IDLE_S = 1.0
DRAIN_MAX_S = 10.0
# Docker's detach keys cannot be turned off: a sequence nobody types (and random data almost never
# holds), so every stdin byte reaches the process.
DETACH_KEYS = "ctrl-@,ctrl-^,ctrl-_,ctrl-@,ctrl-^,ctrl-_,ctrl-@,ctrl-^"
# The ORCA agent names a container's runs orca-<container>-<run>.
CONTAINER = re.compile(r"^orca-[a-z0-9]([-a-z0-9]*[a-z0-9])?-[0-9]+$")
SIGNALS = ("HUP", "INT", "QUIT", "TERM", "KILL")
B64 = re.compile(r"^[A-Za-z0-9+/]*={0,2}$")
B64URL = re.compile(r"^[A-Za-z0-9_-]*$")


class ProtocolError(Exception):
    """ORCA sent something this protocol does not have."""


class Gone(Exception):
    """The session's pty is gone: nobody reads what the helper writes."""


def b64(data):
    return base64.b64encode(data).decode("ascii")


def unb64(text):
    if len(text) % 4 != 0 or not B64.match(text):
        raise ProtocolError("bad base64")
    return base64.b64decode(text)


class Output:
    """Frames to ORCA on fd 1 (blocking: a slow reader slows the helper, nothing piles up)."""

    def __init__(self, fd):
        self.fd = fd

    def line(self, text):
        data = (text + "\n").encode("ascii")
        while data:
            try:
                n = os.write(self.fd, data)
            except OSError as e:
                raise Gone() from e
            data = data[n:]

    def data(self, tag, data):
        for i in range(0, len(data), FRAME_BYTES):
            self.line(tag + " " + b64(data[i:i + FRAME_BYTES]))


class Lines:
    """Lines from ORCA on fd 0, read only when select says so (fd 0 shares fd 1's blocking mode)."""

    def __init__(self, fd):
        self.fd = fd
        self.buf = bytearray()
        self.scanned = 0
        self.eof = False

    def fill(self):
        try:
            data = os.read(self.fd, 65536)
        except OSError as e:
            if e.errno != errno.EIO:
                raise
            data = b""
        if not data:
            self.eof = True
        self.buf += data

    def pop(self):
        i = self.buf.find(b"\n", self.scanned)
        if i < 0:
            self.scanned = len(self.buf)
            if self.scanned > MAX_LINE:
                raise ProtocolError("a line longer than %d bytes" % MAX_LINE)
            return None
        line = bytes(self.buf[:i]).rstrip(b"\r")
        del self.buf[:i + 1]
        self.scanned = 0
        try:
            return line.decode("ascii")
        except UnicodeDecodeError:
            raise ProtocolError("a line that is not ASCII")

    def wait_line(self, timeout):
        """The next line, or None at EOF or after `timeout` seconds."""
        deadline = time.monotonic() + timeout
        with selectors.DefaultSelector() as sel:
            sel.register(self.fd, selectors.EVENT_READ)
            while True:
                line = self.pop()
                if line is not None or self.eof:
                    return line
                left = deadline - time.monotonic()
                if left <= 0 or not sel.select(left):
                    return None
                self.fill()


def check_spec(spec):
    """Why `spec` cannot run, or None."""
    if not isinstance(spec, dict) or spec.get("v") != 1:
        return "unsupported spec version"
    mode, argv = spec.get("mode"), spec.get("argv")
    if mode not in ("exec", "attach"):
        return "unknown mode %r" % (mode,)
    name = spec.get("container")
    if not isinstance(name, str) or not CONTAINER.match(name):
        return "refusing container name %r: not one the ORCA agent gives" % (name,)
    if not isinstance(argv, list) or not all(isinstance(a, str) and "\0" not in a for a in argv):
        return "argv must be a list of strings without NUL"
    if (mode == "exec") != (len(argv) > 0):
        return "exec needs a command and attach takes none"
    for key in ("stdin", "stdout", "stderr", "tty"):
        if not isinstance(spec.get(key), bool):
            return "%s must be true or false" % key
    for key in ("cols", "rows"):
        n = spec.get(key, 1)
        if type(n) is not int or not 1 <= n <= 65535:
            return "%s must be a number from 1 to 65535" % key
    return None


def read_spec(lines):
    line = lines.wait_line(SPEC_WAIT_S)
    if line is None:
        raise ProtocolError("no spec arrived")
    if not line.startswith("S ") or not B64URL.match(line[2:]):
        raise ProtocolError("expected the spec, got %r" % line[:40])
    try:
        spec = json.loads(base64.urlsafe_b64decode(line[2:] + "=" * (-len(line[2:]) % 4)))
    except ValueError:
        raise ProtocolError("the spec is not base64url JSON")
    problem = check_spec(spec)
    if problem is not None:
        raise ProtocolError(problem)
    return spec


def docker_words(spec):
    name = spec["container"]
    if spec["mode"] == "attach":
        words = ["docker", "attach", "--sig-proxy=false", "--detach-keys", DETACH_KEYS]
        return words + ([] if spec["stdin"] else ["--no-stdin"]) + [name]
    words = ["docker", "exec"] + (["-i"] if spec["stdin"] else []) + (["-t"] if spec["tty"] else [])
    return words + ["--detach-keys", DETACH_KEYS, name] + spec["argv"]


def set_size(fd, cols, rows):
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))


def take_terminal():
    # In the child, after setsid: the inner pty becomes its controlling terminal (SIGWINCH on resize).
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)


def nonblocking(fd):
    fcntl.fcntl(fd, fcntl.F_SETFL, fcntl.fcntl(fd, fcntl.F_GETFL) | os.O_NONBLOCK)


class Child:
    """The docker process and the helper's ends of its stdin and outputs (raw fds, non-blocking)."""

    def __init__(self, spec):
        self.tty = spec["tty"]
        self.pending = bytearray()
        self.closing = False
        self.stdin = None
        self.outputs = {}
        if self.tty:
            self._start_tty(spec)
        else:
            self._start_pipes(spec)
        for fd in self.outputs:
            nonblocking(fd)
        if self.stdin is not None:
            nonblocking(self.stdin)

    def _start_pipes(self, spec):
        ends = {}
        theirs = []
        for key in ("stdin", "stdout", "stderr"):
            if spec[key]:
                r, w = os.pipe()
                mine, child = (w, r) if key == "stdin" else (r, w)
                ends[key] = mine
                theirs.append(child)
            else:
                theirs.append(subprocess.DEVNULL)
        try:
            self.proc = subprocess.Popen(docker_words(spec), stdin=theirs[0], stdout=theirs[1], stderr=theirs[2], close_fds=True)
        except BaseException:
            for fd in ends.values():
                os.close(fd)
            raise
        finally:
            for fd in theirs:
                if fd != subprocess.DEVNULL:
                    os.close(fd)
        self.stdin = ends.get("stdin")
        for key, tag in (("stdout", "O"), ("stderr", "E")):
            if key in ends:
                self.outputs[ends[key]] = tag

    def _start_tty(self, spec):
        master, slave = pty.openpty()
        try:
            set_size(slave, spec.get("cols", 80), spec.get("rows", 24))
            self.proc = subprocess.Popen(
                docker_words(spec), stdin=slave, stdout=slave, stderr=slave, close_fds=True,
                start_new_session=True, preexec_fn=take_terminal)
        except BaseException:
            os.close(master)
            raise
        finally:
            os.close(slave)
        self.master = master
        self.outputs[master] = "O" if spec["stdout"] else "-"
        if spec["stdin"]:
            self.stdin = master

    def frame(self, line):
        """Applies one frame from ORCA (I, C, W, K; Q early is ignored)."""
        kind, _, rest = line.partition(" ")
        if kind == "I" and rest:
            if self.stdin is not None and not self.closing:
                self.pending += unb64(rest)
        elif kind == "C" and not rest:
            self.closing = True
        elif kind == "W" and re.match(r"^[0-9]{1,5} [0-9]{1,5}$", rest):
            cols, rows = (max(1, min(int(n), 65535)) for n in rest.split(" "))
            if self.tty:
                set_size(self.master, cols, rows)
        elif kind == "K" and rest in SIGNALS:
            self.signal(getattr(signal, "SIG" + rest))
        elif not (kind == "Q" and not rest):
            raise ProtocolError("unknown frame %r" % line[:40])

    def signal(self, sig):
        if self.proc.poll() is None:
            try:
                self.proc.send_signal(sig)
            except ProcessLookupError:
                pass

    def feed(self):
        """Writes what stdin holds, as much as the child takes; closes it after C."""
        if self.pending:
            try:
                n = os.write(self.stdin, self.pending[:65536])
                del self.pending[:n]
            except BlockingIOError:
                return
            except OSError:
                # The child closed its stdin (EPIPE) or its terminal is gone: the rest is dropped.
                self.pending = bytearray()
                self.closing = True
        if not self.pending and self.closing:
            self.close_stdin()

    def close_stdin(self):
        if self.stdin is None:
            return
        if self.tty:
            # A terminal has no EOF of its own: VEOF (^D) at the start of a line is one.
            try:
                os.write(self.master, b"\x04")
            except OSError:
                pass
        else:
            os.close(self.stdin)
        self.stdin = None

    def read(self, fd, out):
        """Relays one read of an output, closing it at its end."""
        try:
            data = os.read(fd, FRAME_BYTES)
        except BlockingIOError:
            return
        except OSError as e:
            # A pty's master reads EIO once every holder of the slave has closed it.
            if e.errno != errno.EIO:
                raise
            data = b""
        if not data:
            if fd == self.stdin:
                self.stdin, self.pending = None, bytearray()
            del self.outputs[fd]
            os.close(fd)
        elif self.outputs[fd] != "-":
            out.data(self.outputs[fd], data)

    def close(self):
        if self.stdin is not None and self.stdin not in self.outputs:
            os.close(self.stdin)
        self.stdin = None
        for fd in self.outputs:
            os.close(fd)
        self.outputs = {}


def wanted(child, lines, exited):
    """What the loop waits for, per fd."""
    want = {fd: selectors.EVENT_READ for fd in child.outputs}
    if not exited and not lines.eof and len(child.pending) < STDIN_BACKLOG:
        want[lines.fd] = selectors.EVENT_READ
    if child.stdin is not None and (child.pending or child.closing) and not exited:
        want[child.stdin] = want.get(child.stdin, 0) | selectors.EVENT_WRITE
    return want


def sync(sel, want):
    for key in list(sel.get_map().values()):
        if key.fd not in want:
            sel.unregister(key.fd)
    for fd, events in want.items():
        try:
            if sel.get_key(fd).events != events:
                sel.modify(fd, events)
        except KeyError:
            sel.register(fd, events)


def apply_lines(child, lines):
    """Applies every complete line read so far (the spec's read may have read more than the spec)."""
    line = lines.pop()
    while line is not None:
        child.frame(line)
        line = lines.pop()


def on_ready(child, lines, out, fd, events):
    if fd == lines.fd and events & selectors.EVENT_READ:
        lines.fill()
        apply_lines(child, lines)
        if lines.eof:
            # The session's pty hung up: the command goes the way of the session.
            child.signal(signal.SIGHUP)
    if fd in child.outputs and events & selectors.EVENT_READ:
        child.read(fd, out)
    if fd == child.stdin and events & selectors.EVENT_WRITE:
        child.feed()


def relay(child, lines, out, wake):
    """Runs until the child has exited and its output is drained; returns its wait status."""
    exited_at = None
    last_data = time.monotonic()
    apply_lines(child, lines)
    with selectors.DefaultSelector() as sel:
        sel.register(wake, selectors.EVENT_READ)
        while True:
            status = child.proc.poll()
            now = time.monotonic()
            if status is not None and exited_at is None:
                exited_at = last_data = now
            if exited_at is not None and (not child.outputs or now - last_data > DRAIN_IDLE_S or now - exited_at > DRAIN_MAX_S):
                return status
            want = wanted(child, lines, exited_at is not None)
            want[wake] = selectors.EVENT_READ
            sync(sel, want)
            for key, events in sel.select(0.5):
                if key.fd == wake:
                    drain_wakeups(wake)
                    continue
                last_data = time.monotonic()
                on_ready(child, lines, out, key.fd, events)


def drain_wakeups(fd):
    try:
        os.read(fd, 512)
    except BlockingIOError:
        pass


def exit_frame(status):
    if status >= 0:
        return "X %d" % status
    try:
        name = signal.Signals(-status).name[3:]
    except ValueError:
        name = str(-status)
    return "X %d %s" % (128 - status, name)


def wakeup_pipe():
    """A pipe SIGCHLD writes to, so the loop sees the child end at once."""
    r, w = os.pipe()
    nonblocking(r)
    nonblocking(w)
    signal.set_wakeup_fd(w)
    signal.signal(signal.SIGCHLD, lambda *_: None)
    return r


def await_quit(lines):
    """Waits (a few seconds at most) for ORCA's Q, so the last frame is read before the pty closes."""
    deadline = time.monotonic() + QUIT_WAIT_S
    try:
        while True:
            line = lines.wait_line(max(0.0, deadline - time.monotonic()))
            if line is None or line == "Q":
                return
    except ProtocolError:
        return


def fail(out, lines, message):
    out.line("F " + b64(message.encode("utf-8", "replace")))
    await_quit(lines)


def serve(nonce, lines, out):
    out.line("ORCA1 HELLO %s %s" % (nonce, VERSION))
    try:
        spec = read_spec(lines)
    except ProtocolError as e:
        return fail(out, lines, "exec helper: %s" % e)
    wake = wakeup_pipe()
    try:
        child = Child(spec)
    except (OSError, ValueError, subprocess.SubprocessError) as e:
        return fail(out, lines, "exec helper: cannot run docker: %s" % e)
    out.line("R")
    try:
        status = relay(child, lines, out, wake)
    except ProtocolError as e:
        child.signal(signal.SIGKILL)
        child.proc.wait()
        return fail(out, lines, "exec helper: %s" % e)
    finally:
        child.close()
    out.line(exit_frame(status))
    return await_quit(lines)


def main():
    nonce = globals().get("ORCA_NONCE") or (sys.argv[1] if len(sys.argv) > 1 else "-")
    if os.isatty(0):
        tty.setraw(0, termios.TCSANOW)
    lines, out = Lines(0), Output(1)
    try:
        serve(nonce, lines, out)
    except Gone:
        pass
    except Exception as e:  # reported to ORCA, not as a traceback on the pty
        try:
            out.line("F " + b64(("exec helper: %s: %s" % (type(e).__name__, e)).encode("utf-8", "replace")))
        except Gone:
            pass


if __name__ == "__main__":
    main()
