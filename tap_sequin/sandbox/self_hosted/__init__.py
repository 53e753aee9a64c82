"""The sandbox's stand-in for Sequin's self-hosted server (`sequinstream/sequin`): its
management API under `/api`, and `GET /health`.

Where things are: `sensitive` (secrets, obfuscated as the server does), `destinations` (a
sink's destination per type), `health` (health objects, and health that moves between runs),
`backfills` (backfills, and how they progress between runs), `seed` (the seeded world),
`world` (the current world and its JSON bodies), `api` (the routes), `admin` (its
`/_sandbox/` routes), `embedded` (`SelfHostedSandbox`, on a background thread).
"""
