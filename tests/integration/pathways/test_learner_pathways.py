"""``GET /v1/learners/{ref}/pathways`` over real member registries: the learner's records fetched from every
member, evaluated for one member, stacked towards its awards.

The learner passed two micro-credentials at each of three members (uni-a: uk-fheq, uni-b: SCQF,
college-c: US semester hours). uni-a and uni-b agree to recognise each other's credit; college-c, with
the learner's consent, asks what the learner's credit is worth at uni-a. Expected values come from
shared/reference/domain.md: SCQF credit and UK credit are both x0.5 to ECTS (section 1), so an SCQF credit
is one UK credit; SCQF 7/8 -> EQF 5, 9/10 -> EQF 6, 11 -> EQF 7, and the lowest FHEQ level on each EQF level
is FHEQ 4, 6 and 7 (section 2).
"""

from __future__ import annotations

from typing import Any

from integration.lookup.conftest import CALLER, ESI, HOME, OTHER, World

PATH = f"/v1/learners/{ESI}/pathways"
SCQF_TO_FHEQ = {"7": "4", "8": "4", "9": "6", "10": "6", "11": "7"}
AGREEMENT: dict[str, Any] = {
    "id": "a-b-general",
    "parties": {"kind": "bilateral", "members": [HOME, OTHER]},
    "valid_from": "2020-01-01",
    "grant": {"kind": "general_credit"},
}


def records_of(world: World, member: str) -> list[tuple[str, float, str]]:
    """What the member's registry itself holds for the learner: (gateway credential id, credits in the
    member's unit, level code) of each passed result."""
    data = world.cluster.members[member].running.sandbox.data
    person = data.persons_by_esi(ESI)[0]
    found = []
    for association in data.associations_of(person.person_id):
        course = data.course(association.course_id)
        if association.passed and course is not None:
            found.append((f"{member}:{association.association_id}", course.study_load, course.level_code))
    return found


async def test_credit_from_another_member_and_the_members_own_count_towards_its_awards(world: World) -> None:
    await world.consent()
    created = await world.http.post(
        "/v1/recognition/agreements", json=AGREEMENT, headers=await world.token(world.home)
    )
    assert created.status_code == 201, created.text
    response = await world.http.get(
        PATH,
        params={"purpose": "credit-transfer", "member": HOME, "award": "bachelors-honours"},
        headers=await world.token(world.caller),
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["partial"] is False
    assert body["recogniser"] == {"id": HOME, "framework": "uk-fheq"}
    assert {m["member"]: m["status"] for m in body["members"]} == {HOME: "ok", OTHER: "ok", CALLER: "ok"}

    outcomes = {o["credential"]: o for o in body["outcomes"]}
    assert {c.split(":", 1)[0] for c in outcomes} == {OTHER, CALLER}
    from_other = {c: o for c, o in outcomes.items() if c.startswith(f"{OTHER}:")}
    assert len(from_other) == 2
    expected_credits = 0.0
    assert sorted(from_other) == sorted(c for c, _, _ in records_of(world, OTHER))
    for credential, amount, level in records_of(world, OTHER):
        outcome = from_other[credential]
        assert outcome["status"] == "recognised"
        assert outcome["credits"]["amount"] == amount  # SCQF credit = UK credit
        assert outcome["level"]["code"] == SCQF_TO_FHEQ[level]
        assert outcome["agreement"] == {"id": "a-b-general", "version": 1}
        expected_credits += amount
    # No agreement binds college-c and uni-a: the explanation says so at the first rule.
    for credential, outcome in outcomes.items():
        if credential.startswith(f"{CALLER}:"):
            assert outcome["status"] == "not_recognised"
            assert outcome["explanation"]["rules"][0]["rule"] == "agreement.applies"

    own = body["own_credit"]
    assert len(own) == 2
    assert all(c["credential"].startswith(f"{HOME}:") for c in own)
    own_total = sum(amount for _, amount, _ in records_of(world, HOME))
    assert sorted(c["credits"] for c in own) == sorted(amount for _, amount, _ in records_of(world, HOME))

    [honours] = body["awards"]
    # "Bachelor's degree with honours,6,360,90": 360 UK credits in total.
    assert (honours["award"], honours["total_required"]) == ("bachelors-honours", 360)
    assert honours["total_recognised"] == expected_credits
    assert honours["total_own"] == own_total
    assert honours["total_counted"] == expected_credits + own_total
    assert honours["remaining_at_member"] == 360 - expected_credits - own_total
    assert not honours["eligible"]
    assert sorted(honours["counted_credentials"]) == sorted(from_other)
    assert sorted(honours["own_credentials"]) == sorted(c["credential"] for c in own)


async def test_every_award_is_ranked_when_none_is_named(world: World) -> None:
    await world.consent()
    response = await world.http.get(
        PATH, params={"purpose": "credit-transfer", "member": HOME}, headers=await world.token(world.caller)
    )
    assert response.status_code == 200, response.text
    awards = [a["award"] for a in response.json()["awards"]]
    # Every credit-rated FHEQ award (QAA 2021 table), none of those "not typically credit-rated".
    assert "phd" not in awards
    assert "research-masters" not in awards
    assert {"pg-certificate", "bachelors-honours", "cert-he", "taught-masters"} <= set(awards)
    shortfalls = [
        max(r["missing"] for r in a["requirements"]) for a in response.json()["awards"] if not a["eligible"]
    ]
    assert shortfalls == sorted(shortfalls)


async def test_default_member_is_the_caller_and_bad_queries_ask_no_member(world: World) -> None:
    await world.consent()
    headers = await world.token(world.caller)
    mine = await world.http.get(PATH, params={"purpose": "credit-transfer"}, headers=headers)
    assert mine.status_code == 200, mine.text
    assert mine.json()["recogniser"] == {"id": CALLER, "framework": "us-semester"}
    before = {m: world.requests_seen(m) for m in (HOME, OTHER, CALLER)}
    for params, field in (
        ({"member": "nowhere.example"}, "member"),
        ({"member": HOME, "award": "mba"}, "award"),
    ):
        bad = await world.http.get(PATH, params={"purpose": "credit-transfer", **params}, headers=headers)
        assert bad.status_code == 400, bad.text
        assert bad.headers["content-type"].startswith("application/problem+json")
        assert bad.json()["field"] == field
    assert {m: world.requests_seen(m) for m in (HOME, OTHER, CALLER)} == before


async def test_without_a_lawful_basis_no_member_is_asked(world: World) -> None:
    before = {m: world.requests_seen(m) for m in (HOME, OTHER, CALLER)}
    response = await world.http.get(
        PATH, params={"purpose": "credit-transfer", "member": HOME}, headers=await world.token(world.caller)
    )
    assert response.status_code == 403
    assert response.json()["type"] == "urn:consortium-gateway:problem:no-lawful-basis"
    assert {m: world.requests_seen(m) for m in (HOME, OTHER, CALLER)} == before
    rows = await world.audit_rows()
    assert [(r["action"], r["outcome"]) for r in rows] == [("learner.pathways.read", "denied")]


async def test_the_route_needs_both_scopes(world: World) -> None:
    await world.consent()
    token = await world.http.post("/oauth/token", data=world.caller.token_form(scope="credentials:read"))
    assert token.status_code == 200, token.text
    headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
    response = await world.http.get(PATH, params={"purpose": "credit-transfer"}, headers=headers)
    assert response.status_code == 403
    assert "recognition:read" in response.text
