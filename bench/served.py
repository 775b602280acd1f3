"""What the scripts that serve the app on this machine share: psql on the local server, waiting for gunicorn."""

import subprocess
import time
import urllib.request


def psql(sql, database="postgres", port=5432):
    """Run one statement on this machine's PostgreSQL (trust auth, user postgres); returns its unaligned output."""
    return subprocess.run(
        ["psql", "-h", "127.0.0.1", "-p", str(port), "-U", "postgres", "-d", database, "-Atc", sql],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout


def wait_until_up(host, port, *, tries=150):
    """Wait until gunicorn answers the login page (0.2 s between tries), or stop the script."""
    for _ in range(tries):
        try:
            with urllib.request.urlopen(f"http://{host}:{port}/accounts/login/", timeout=2) as response:  # noqa: S310
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.2)
    raise SystemExit("gunicorn did not start")
