"""Generated people and routes of a sandbox connection: agents (many with non-ASCII names), queues,
contacts and international E.164 numbers; deterministic for (seed, connection_id)."""

from __future__ import annotations

import random
import unicodedata

from uc_pipeline.sandbox.model import Agent, Contact, Directory, Queue, SandboxConnection

# (first name, last name, display name); the display follows each culture's own order.
PEOPLE: tuple[tuple[str, str, str], ...] = (
    ("Zoë", "Müller", "Zoë Müller"), ("José", "Ñúñez", "José Ñúñez"), ("Łukasz", "Wiśniewski", "Łukasz Wiśniewski"),
    ("伟", "张", "张伟"), ("Søren", "Kierkegård", "Søren Kierkegård"), ("François", "Lefèvre", "François Lefèvre"),
    ("Ayşe", "Yılmaz", "Ayşe Yılmaz"), ("Björn", "Ångström", "Björn Ångström"),
    ("Siobhán", "O'Brien", "Siobhán O'Brien"),
    ("Thị Lan", "Nguyễn", "Nguyễn Thị Lan"), ("Олег", "Петров", "Олег Петров"), ("Priya", "Sharma", "Priya Sharma"),
    ("Emma", "Johnson", "Emma Johnson"), ("Liam", "Smith", "Liam Smith"), ("Chloé", "Dubois", "Chloé Dubois"),
    ("Mateo", "García", "Mateo García"), ("由紀", "田中", "田中由紀"), ("Noah", "Williams", "Noah Williams"),
    ("Olivia", "Brown", "Olivia Brown"), ("Jürgen", "Groß", "Jürgen Groß"), ("Inés", "Peña", "Inés Peña"),
    ("Ahmed", "El-Sayed", "Ahmed El-Sayed"), ("Sophia", "Rossi", "Sophia Rossi"), ("Lucas", "Martin", "Lucas Martin"),
    ("Amélie", "Côté", "Amélie Côté"), ("Kenji", "Watanabe", "Kenji Watanabe"), ("Ana", "Gonçalves", "Ana Gonçalves"),
    ("Antonín", "Dvořák", "Antonín Dvořák"), ("Mia", "Anderson", "Mia Anderson"), ("Oliver", "Taylor", "Oliver Taylor"),
)
COMPANIES: tuple[str, ...] = (
    "Acme Corp", "Globex GmbH", "Müller & Söhne", "Société Générale de Café", "北京科技有限公司", "Initech",
    "Umbrella Ltd", "Soylent S.A.", "Łódź Logistics", "Nordisk Ærø A/S",
)
QUEUE_NAMES: tuple[str, ...] = (
    "Support", "Sales", "Billing", "Support FR – Facturation", "Kundendienst", "VIP", "Onboarding", "Retención",
    "Technical Support L2", "Partners", "Returns", "After-hours",
)
# (country calling code, national significant number prefix, digits after the prefix)
NUMBER_PLANS: tuple[tuple[str, str, int], ...] = (
    ("1", "415", 7), ("1", "212", 7), ("44", "7", 9), ("33", "6", 8), ("49", "151", 8), ("34", "6", 8),
    ("55", "119", 8), ("81", "90", 8), ("91", "98", 8), ("61", "4", 8), ("48", "5", 8), ("86", "138", 8),
    ("52", "55", 8), ("39", "3", 9),
)
COMPANY_PLAN_BY_TZ_PREFIX: dict[str, tuple[str, str, int]] = {
    "Europe/Paris": ("33", "1", 8), "Europe/London": ("44", "20", 8), "Europe/Berlin": ("49", "30", 8),
    "America/": ("1", "650", 7), "Asia/Tokyo": ("81", "3", 8),
}


def random_number(rng: random.Random, plan: tuple[str, str, int] | None = None) -> str:
    """A plausible E.164 number; from `plan` or a random country."""
    code, prefix, digits = plan or rng.choice(NUMBER_PLANS)
    return f"+{code}{prefix}{rng.randrange(10 ** (digits - 1), 10 ** digits)}"


def ascii_slug(text: str) -> str:
    """An ASCII e-mail local part for a name ("Zoë Müller" -> "zoe.muller")."""
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    parts = ["".join(ch for ch in word if ch.isalnum()) for word in plain.split()]
    return ".".join(p for p in parts if p)


def company_plan(timezone: str) -> tuple[str, str, int]:
    for prefix, plan in COMPANY_PLAN_BY_TZ_PREFIX.items():
        if timezone.startswith(prefix):
            return plan
    return ("1", "650", 7)


def build_directory(conn: SandboxConnection) -> Directory:
    """Agents, queues and contacts of a connection; sizes grow with its daily volume."""
    rng = random.Random(f"directory:{conn.seed}:{conn.connection_id}")
    plan = company_plan(conn.timezone)
    domain = f"{ascii_slug(conn.connection_id.replace('-', ' ')).replace('.', '-') or 'company'}.example.com"
    n_agents = min(max(6, conn.calls_per_day // 40), 1500)
    n_queues = min(max(3, conn.calls_per_day // 2000), len(QUEUE_NAMES))
    n_contacts = min(max(40, conn.calls_per_day * 2), 20_000)
    agents: list[Agent] = []
    used_numbers: set[str] = set()
    for i in range(n_agents):
        first, last, display = PEOPLE[i % len(PEOPLE)]
        name = display if i < len(PEOPLE) else f"{display} {i // len(PEOPLE) + 1}"
        local = ascii_slug(f"{first} {last}") or f"agent{i + 1}"
        agents.append(Agent(
            agent_id=1000 + i + 1,
            name=name,
            email=f"{local}{'' if i < len(PEOPLE) else i // len(PEOPLE) + 1}@{domain}",
            extension=str(101 + i),
            phone=_unique(rng, plan, used_numbers),
        ))
    queues = [Queue(queue_id=500 + i + 1, name=QUEUE_NAMES[i], number=_unique(rng, plan, used_numbers))
              for i in range(n_queues)]
    contacts: list[Contact] = []
    for i in range(n_contacts):
        first, last, _ = rng.choice(PEOPLE)
        company = rng.choice(COMPANIES) if rng.random() < 0.6 else None
        email = f"{ascii_slug(first + ' ' + last) or 'contact'}.{i + 1}@example.org" if rng.random() < 0.7 else None
        contacts.append(Contact(
            contact_id=20_000 + i + 1, first_name=first, last_name=last, company=company,
            phone=_unique(rng, None, used_numbers), email=email,
        ))
    return Directory(agents=tuple(agents), queues=tuple(queues), contacts=tuple(contacts))


def _unique(rng: random.Random, plan: tuple[str, str, int] | None, used: set[str]) -> str:
    while True:
        number = random_number(rng, plan)
        if number not in used:
            used.add(number)
            return number
