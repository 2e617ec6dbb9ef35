"""The organiser's workspace: pages and calls that bring several domains together.

The domains below (events, registrations, attendance, notifications) hold the rules; this
package only parses, authorises, calls one service and renders. Mail's HTTP lives here so
that `notifications` (the worker) never depends on the web layer.
"""
