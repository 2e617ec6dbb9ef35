"""Privacy: a person's data exported or erased, retention after events, and the admins' view.

Erasure anonymises a registration in place: the seat is freed like a cancellation, and what
reports count (status, stakeholder group, check-in, times) stays, while everything that
names the person (and every mail still waiting to reach them) is gone.
"""
