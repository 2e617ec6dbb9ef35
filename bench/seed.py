"""A realistic data set, written straight into PostgreSQL: events, sectors, registrations."""

from __future__ import annotations

import asyncpg

SEED_EVENTS = """
INSERT INTO event (slug, calendar_uid, sequence, title, summary, description, kind, format,
    region, locality, venue_name, venue_street, venue_postal_code, venue_city, online_url,
    starts_at, ends_at, timezone, capacity, seats_taken, waitlist, requires_approval,
    registration_opens_at, registration_closes_at, status, cancellation_reason, contact_name,
    contact_email, search_text, owner, created_at, updated_at, published_at, cancelled_at)
SELECT 'bench-' || $5 || '-' || g, 'bench-' || $5 || '-' || g || '@bench', 0,
    'Workshop ' || g || ' Digitale Region', 'Zusammenfassung ' || g, 'Beschreibung ' || g,
    CASE WHEN g % 3 = 0 THEN 'networking_meeting' ELSE 'workshop' END,
    (ARRAY['in_person', 'online', 'hybrid'])[g % 3 + 1],
    (SELECT code FROM region ORDER BY code OFFSET (g % 17) LIMIT 1), '',
    'Rathaus', 'Markt 1', '01067', 'Stadt ' || (g % 50), 'https://meet.example.org/' || g,
    now() + (g % 300 + 1) * interval '1 day', now() + (g % 300 + 1) * interval '1 day' + interval '3 hours',
    'Europe/Berlin', $2, $3, true, false, NULL, NULL, 'published', '', 'Team',
    'team@bench.example', 'workshop ' || g || ' digitale region stadt ' || (g % 50), $4,
    now(), now(), now(), NULL
FROM generate_series(1, $1) AS g
"""

SEED_SECTORS = """
INSERT INTO event_sector (event, sector)
SELECT e.id, (ARRAY['education', 'energy', 'health', 'mobility', 'administration'])[e.id % 5 + 1]
FROM event e WHERE e.slug LIKE 'bench-' || $1 || '-%'
"""

SEED_REGISTRATIONS = """
INSERT INTO registration (event, name, email, organisation, stakeholder_group, role, notes,
    answers, language, status, waitlist_ticket, link_nonce, token_hash, search_text,
    added_by_organiser, consent_at, checked_in_at, created_at, updated_at, cancelled_at)
SELECT e.id, 'Person ' || e.id || '-' || r, 'p' || e.id || '-' || r || '@bench.example',
    'Organisation ' || (r % 40), 'public_administration', '', '', '{}', 'de', 'confirmed', NULL,
    md5('nonce' || e.id || '-' || r), md5('hash' || e.id || '-' || r), '', false, now(), NULL,
    now(), now(), NULL
FROM event e, generate_series(1, $1) AS r
WHERE e.slug LIKE 'bench-' || $2 || '-%'
"""


async def seed(url: str, *, events: int, per_event: int, owner_id: int, prefix: str) -> None:
    """`events` published events named bench-<prefix>-n, each with `per_event` registrations."""
    connection = await asyncpg.connect(url)
    try:
        await connection.execute(SEED_EVENTS, events, per_event + 10, per_event, owner_id, prefix)
        await connection.execute(SEED_SECTORS, prefix)
        if per_event:
            await connection.execute(SEED_REGISTRATIONS, per_event, prefix)
        await connection.execute("VACUUM ANALYZE")
    finally:
        await connection.close()
