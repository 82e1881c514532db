"""Which OpenAPI snapshot this package was generated from (written by generate.sh)."""

SNAPSHOT: dict[str, str] = {
    'api_version': 'v2-beta',
    'source': 'https://platform.toloka.ai/api/v2-beta/doc (unreachable; reconstructed from the published how-to and api-facts)',
    'mode': 'reconstructed',
    'date': '2026-11-23',
    'sha256': 'd57ffdfbb378b3f8861414b8a3665e05103bfb9f4cf7226562c8f0f718daef6b',
}

SNAPSHOT_VERSION = f"{SNAPSHOT['api_version']}@{SNAPSHOT['date']}#{SNAPSHOT['sha256'][:12]}"
