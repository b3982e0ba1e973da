"""The pure core shared by the desktop client and the credit server.

No I/O, no Qt, no database: the /api/v1 protocol models (`protocol`), canonical JSON and
Ed25519 signatures (`signatures`), certificates as Open Badges 3.0 credentials with their
proof, revocation and the one check every reader uses (`credentials`; its JSON-LD contexts
are package data, read, never fetched) and the accreditation rules (`rules`). Both sides import
these so that the client's provisional verdict and the server's final one cannot drift.
The one exception to "no I/O": `private_files`, the owner-only modes both sides' data
folders and files are made with.
"""
