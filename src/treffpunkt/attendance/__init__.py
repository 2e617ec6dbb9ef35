"""Attendance: check-in codes, QR tickets, check-in at the door, reports."""
