"""A small IMAP4rev1 server on loopback for the bounce-mailbox tests: real sockets and the
stdlib client on the other side, a folder of messages with UIDs and \\Seen flags, and the
commands the reader uses (CAPABILITY, LOGIN, SELECT, UID SEARCH UNSEEN, UID FETCH BODY.PEEK[],
UID STORE +FLAGS.SILENT, LOGOUT, NOOP). `fail_on` makes one command drop the connection."""

from __future__ import annotations

import re
import socketserver
import threading
from dataclasses import dataclass, field


@dataclass
class Message:
    uid: int
    raw: bytes
    seen: bool = False


@dataclass
class Mailbox:
    user: str = "bounces"
    password: str = "secret"
    folder: str = "INBOX"
    messages: list[Message] = field(default_factory=list)
    fail_on: str | None = None  # e.g. "FETCH" or "STORE": drop the connection there
    logins: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, raw: bytes, seen: bool = False) -> int:
        with self.lock:
            uid = (self.messages[-1].uid if self.messages else 0) + 1
            self.messages.append(Message(uid, raw, seen))
            return uid

    def unseen(self) -> list[int]:
        return [m.uid for m in self.messages if not m.seen]


def _uid_set(text: str) -> set[int]:
    out: set[int] = set()
    for part in text.split(","):
        low, _, high = part.partition(":")
        out.update(range(int(low), int(high or low) + 1))
    return out


class _Handler(socketserver.StreamRequestHandler):
    box: Mailbox
    selected = False

    def send(self, line: str | bytes) -> None:
        self.wfile.write((line.encode() if isinstance(line, str) else line) + b"\r\n")

    def handle(self) -> None:
        self.send("* OK fake IMAP4rev1 ready")
        while line := self.rfile.readline():
            tag, _, rest = line.decode().rstrip("\r\n").partition(" ")
            command, _, args = rest.partition(" ")
            command = command.upper()
            if command == "UID":
                sub, _, args = args.partition(" ")
                command = f"UID_{sub.upper()}"
            if self.box.fail_on and self.box.fail_on in command:
                return  # the connection drops mid-conversation
            if command.startswith("UID_") and not self.selected:
                self.send(f"{tag} BAD select a folder first")
                continue
            handler = getattr(self, f"do_{command.lower()}", None)
            if handler is None:
                self.send(f"{tag} BAD unknown command")
                continue
            refusal = handler(args)
            self.send(f"{tag} {refusal or 'OK ' + command + ' done'}")
            if command == "LOGOUT":
                return

    def do_capability(self, _args: str) -> None:
        self.send("* CAPABILITY IMAP4rev1")

    def do_noop(self, _args: str) -> None:
        pass

    def do_login(self, args: str) -> str | None:
        user, password = (p.strip('"') for p in args.split(" ", 1))
        if (user, password) != (self.box.user, self.box.password):
            return "NO [AUTHENTICATIONFAILED] invalid credentials"
        self.box.logins += 1
        return None

    def do_select(self, args: str) -> str | None:
        if args.strip('"') != self.box.folder:
            return "NO no such folder"
        self.selected = True
        self.send(f"* {len(self.box.messages)} EXISTS")
        self.send("* OK [UIDVALIDITY 7] ok")
        return None

    def do_uid_search(self, args: str) -> None:
        assert args.upper() == "UNSEEN", args
        self.send("* SEARCH " + " ".join(str(u) for u in self.box.unseen()))

    def do_uid_fetch(self, args: str) -> None:
        uids, _, what = args.partition(" ")
        assert what.upper() == "(BODY.PEEK[])", what
        wanted = _uid_set(uids)
        for n, message in enumerate(self.box.messages, start=1):
            if message.uid in wanted:
                head = f"* {n} FETCH (UID {message.uid} BODY[] {{{len(message.raw)}}}"
                self.wfile.write(head.encode() + b"\r\n" + message.raw + b")\r\n")

    def do_uid_store(self, args: str) -> None:
        uids, _, flags = args.partition(" ")
        assert re.fullmatch(r"\+FLAGS(\.SILENT)? \(\\Seen\)", flags), flags
        wanted = _uid_set(uids)
        with self.box.lock:
            for message in self.box.messages:
                if message.uid in wanted:
                    message.seen = True

    def do_logout(self, _args: str) -> None:
        self.send("* BYE bye")


class FakeImapServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, box: Mailbox) -> None:
        handler = type("Handler", (_Handler,), {"box": box})
        super().__init__(("127.0.0.1", 0), handler)
        self.box = box
        self.thread = threading.Thread(target=self.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        box, port = self.box, self.server_address[1]
        return f"imap://{box.user}:{box.password}@127.0.0.1:{port}/{box.folder}"

    def __enter__(self) -> FakeImapServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.shutdown()
        self.server_close()
