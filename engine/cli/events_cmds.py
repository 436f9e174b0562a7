"""`prism events import FILE | export --out FILE`: shopper events in and out of the event store.

The store is `$PRISM_EVENT_STORE` (any SQLAlchemy URL, e.g. PostgreSQL) or
`<home>/events.sqlite`. An import prints how every row was accounted for (read = stored +
dropped by reason) and exits 2 when nothing could be stored; bad files are one line, exit 2.
"""

from __future__ import annotations

import argparse
import sys

from engine.core.messages import render


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add `prism events ...` to the parser."""
    events = subparsers.add_parser("events", help="shopper events: import and export the "
                                                  "event store")
    commands = events.add_subparsers(dest="events_command", metavar="ACTION", required=True)
    load = commands.add_parser("import", help="store the events of a CSV or Parquet file "
                                              "(user_id, item_id, event, timestamp[, list_id])")
    load.add_argument("file")
    load.add_argument("--store", default=None, help="SQLAlchemy URL or SQLite file (default: "
                      "$PRISM_EVENT_STORE, else events.sqlite in the Prism home)")
    load.set_defaults(func=run_import)
    dump = commands.add_parser("export", help="write every stored event to a CSV or Parquet "
                                              "file")
    dump.add_argument("--out", required=True, help="file to write (.csv or .parquet)")
    dump.add_argument("--store", default=None, help="as for import")
    dump.set_defaults(func=run_export)


def run_import(args: argparse.Namespace) -> int:
    from engine.events.store import EventStore
    from engine.events.transfer import import_events

    store = EventStore(args.store)

    def progress(done: int, total: int) -> None:
        print(f"stored {done:,} / {total:,} events", file=sys.stderr)

    count = import_events(args.file, store, progress=progress)
    print(count.line())
    print(f"event store {store.where}: {store.count():,} events in all")
    if count.kept == 0:
        print("prism: error: no event could be stored; see the counts above", file=sys.stderr)
        return 2
    return 0


def run_export(args: argparse.Namespace) -> int:
    from engine.events.store import EventStore
    from engine.events.transfer import export_events

    store = EventStore(args.store)
    written = export_events(store, args.out, progress=lambda n: print(
        render("read {n:,} {n:event|events}", n=n), file=sys.stderr))
    print(render("wrote {n:,} {n:event|events} from {where} to {out}", n=written,
                 where=store.where, out=args.out))
    return 0
