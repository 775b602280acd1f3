"""Summarise py-spy raw profiles (collapsed stacks) of gunicorn workers: where a worker's CPU time goes.

    .venv/bin/python bench/load/profile_summary.py /tmp/load-bench-…/profile-worker-*.txt

Prints the share of samples under each request view (inclusive), each sample's layer (the innermost frame that
belongs to one: the database driver, the ORM, templates, URL reversing, …), a few named costs inside the top views,
and the functions with the most samples of their own. py-spy leaves out the samples it judges idle, but not every
blocking wait: a share under the database driver is mostly waiting for PostgreSQL.
"""

import re
import sys
from collections import Counter

# Inclusive costs worth naming: a sample counts for each whose pattern matches one of its frames.
COSTS = {
    "template rendering (django/template)": r"django/template/",
    "{% url %} / reverse()": r"\(django/urls/(base|resolvers)\.py\)",
    "database (psycopg, compiler)": r"psycopg/|django/db/models/sql/compiler\.py",
    "password hashing (pbkdf2)": r"pbkdf2|hashers\.py",
    "session and user load": r"sessions/backends|auth/__init__\.py.*get_user|get_user \(",
    "palette (the palette_slots query, the palette_cells tag)": r"palette",
    "draw_versions (attempt start)": r"draw_versions",
}
# A sample's layer: the first of these that one of its frames matches, from the innermost frame out.
LAYERS = [
    ("database driver (psycopg)", r"psycopg/"),
    ("password hashing", r"hashers\.py|pbkdf2"),
    ("URL reversing ({% url %}, reverse)", r"django/urls/"),
    ("templates (django/template)", r"django/template/|template_partials/"),
    ("ORM (django/db)", r"django/db/"),
    ("sessions, auth, CSRF", r"django/contrib/(sessions|auth)/|middleware/csrf\.py"),
    ("django-axes", r"axes/"),
    ("app code (quizapp)", r"quizapp/"),
    ("gunicorn", r"gunicorn/"),
    ("other Django", r"django/"),
]
VIEWS = re.compile(r"^(\w+) \((?:/[^)]*)?quizapp/(\w+)/views\.py:\d+\)$|^(bare) \(.*bench/load/urls\.py:\d+\)$")


def main(paths):
    total = 0
    layers = Counter()
    costs = Counter()
    views = Counter()
    own = Counter()
    within = {}  # view -> Counter of named costs inside it
    lines = [line for path in paths for line in open(path)]  # noqa: SIM115 (small files, read once)
    for line in lines:
        stack, _, count = line.rstrip("\n").rpartition(" ")
        if not stack:
            continue
        count = int(count)
        frames = stack.split(";")
        total += count
        named = [name for name, pattern in COSTS.items() if any(re.search(pattern, frame) for frame in frames)]
        for name in named:
            costs[name] += count
        for frame in frames:
            match = VIEWS.match(frame)
            if match:
                view = f"{match.group(2) or 'bench'}.{match.group(1) or match.group(3)}"
                views[view] += count
                for name in named:
                    within.setdefault(view, Counter())[name] += count
                break
        layer = next(
            (name for frame in reversed(frames) for name, pattern in LAYERS if re.search(pattern, frame)), "other"
        )
        layers[layer] += count
        own[re.sub(r":\d+\)$", ")", frames[-1])] += count
    print(f"{total} samples (those py-spy judged not idle)")
    print("\nby view (inclusive):")
    for name, count in views.most_common(12):
        print(f"  {100 * count / total:5.1f} %  {name}")
    print("\nby layer (the innermost frame that belongs to one):")
    for name, count in layers.most_common():
        print(f"  {100 * count / total:5.1f} %  {name}")
    print("\nnamed costs (inclusive, overlapping):")
    for name, count in costs.most_common():
        print(f"  {100 * count / total:5.1f} %  {name}")
    for view, count in views.most_common(5):
        print(f"\nwithin {view} ({count} samples):")
        for name, share in within.get(view, Counter()).most_common():
            print(f"  {100 * share / count:5.1f} %  {name}")
    print("\nmost samples of their own:")
    for name, count in own.most_common(12):
        print(f"  {100 * count / total:5.1f} %  {name}")


if __name__ == "__main__":
    main(sys.argv[1:])
