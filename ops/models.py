"""Process heartbeats: when a worker and beat were last seen alive (readiness and metrics)."""
from django.db import models


class Heartbeat(models.Model):
    """``name`` is "beat", "worker" (any worker) or "worker:<hostname>" (one worker)."""

    name = models.CharField(max_length=200, primary_key=True)
    last_seen = models.DateTimeField()

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return f"{self.name} at {self.last_seen:%Y-%m-%d %H:%M:%S}"
