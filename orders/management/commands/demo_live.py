"""Keep the demo moving: ship a few processing demo orders with the simulated carrier.

`make run` calls this after `seed_demo`, and beat runs the same step every minute while
`DEMO_LIVE` is on (orders.demo), so a parcel is always on its way for as long as the demo runs.
It acts only when fewer parcels than wanted are in flight, so running it repeatedly never piles
shipments up. The shipments go through the real services, so customers get their messages.
"""
from django.core.management.base import BaseCommand

from orders.demo import demo_keep_moving


class Command(BaseCommand):
    help = "Ship processing demo orders with the simulated carrier until N parcels are in flight."

    def add_arguments(self, parser):
        parser.add_argument("--count", type=int, default=3)

    def handle(self, *args, count, **options):
        done = demo_keep_moving(in_flight_target=count, place_new=False)
        for line in done:
            self.stdout.write(f"Live demo: {line}; watch it move on its status page.")
        if not done:
            self.stdout.write("Live demo: parcels already on their way (or no processing order to ship).")
