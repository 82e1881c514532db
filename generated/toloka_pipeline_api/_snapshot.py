"""Which OpenAPI snapshot this package was generated from (written by generate.sh)."""

SNAPSHOT: dict[str, str] = {
    'api_version': 'v2-beta',
    'source': 'shared/reference (how-to + api-facts), reconstructed',
    'mode': 'reconstructed',
    'date': '2026-11-23',
    'sha256': '78a9c37a1ddcf9826efcdc36fc3f9f45263273d107d957a301b6490cb5c97abf',
}

SNAPSHOT_VERSION = f"{SNAPSHOT['api_version']}@{SNAPSHOT['date']}#{SNAPSHOT['sha256'][:12]}"
