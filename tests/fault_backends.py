"""A provider for the fault tests: every hand-off is appended (and fsynced) to FAULT_RECORD_PATH
before the "provider's answer" comes back after FAULT_SEND_DELAY seconds, so a kill lands between
the provider taking a message and the worker recording it: the case that must neither lose nor
double a message. ``find_sent`` answers from the record, as Twilio's Messages API would."""
import json
import os
import time
import uuid

from notifications.channels.sms import BaseSmsBackend


def record_path() -> str:
    return os.environ["FAULT_RECORD_PATH"]


def recorded() -> list[dict]:
    try:
        with open(record_path()) as fh:
            return [json.loads(line) for line in fh if line.strip()]
    except FileNotFoundError:
        return []


class RecordingSmsBackend(BaseSmsBackend):
    provider = "recording"

    def deliver(self, *, to, body, message):
        sid = f"SMrec{message.notification_id}x{uuid.uuid4().hex[:8]}"
        line = json.dumps({"notification_id": message.notification_id, "sid": sid, "pid": os.getpid()}) + "\n"
        fd = os.open(record_path(), os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, line.encode())
            os.fsync(fd)
        finally:
            os.close(fd)
        time.sleep(float(os.environ.get("FAULT_SEND_DELAY", "0.02")))
        return sid

    def find_sent(self, *, notification_id, to, body, since):
        return next((row["sid"] for row in recorded() if row["notification_id"] == notification_id), None)
