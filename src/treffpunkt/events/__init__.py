"""Events, regions, sectors, scheduling and the public catalogue."""
