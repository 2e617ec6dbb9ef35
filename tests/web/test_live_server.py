import httpx


def test_the_real_server_answers_health_with_its_database(live_server: str) -> None:
    response = httpx.get(f"{live_server}/health")

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}
