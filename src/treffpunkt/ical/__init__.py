"""iCalendar: invites, cancellations and feeds. Pure functions over plain values, no tables."""
