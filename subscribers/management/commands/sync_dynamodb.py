"""Push subscribers and conversations to DynamoDB, or check and repair drift."""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from django.core.cache import cache
from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from smsbot.redaction import mask_phone
from subscribers.mirror import bulk as mirror_bulk
from subscribers.mirror import write as mirror

SHOWN = 5  # phone numbers listed per kind of drift

CONFIG_ERROR = 2  # exit code: the mirror cannot run at all
DRIFT = 1  # exit code: drift found, or a push that did not finish


def checkpoint_key(spec: mirror.MirrorSpec) -> str:
    return f"sync_dynamodb:backfill:{spec.table}"


class Command(BaseCommand):
    help = (
        "Without options: write every row with a conditional PutItem. "
        "--backfill: bulk BatchWriteItem, resumable. --verify: report drift (exit 1). "
        "--repair: fix the drift found."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        mode = parser.add_mutually_exclusive_group()
        mode.add_argument("--backfill", action="store_true", help="bulk push (25 items/request)")
        mode.add_argument("--verify", action="store_true", help="report drift; exit 1 if any")
        mode.add_argument("--repair", action="store_true", help="find drift and fix it")
        parser.add_argument(
            "--table",
            choices=sorted(mirror.SPECS),
            action="append",
            help="only this table (repeatable; default: both)",
        )
        parser.add_argument(
            "--start-after",
            type=int,
            help="backfill: start after this row id instead of the stored checkpoint",
        )
        parser.add_argument(
            "--restart", action="store_true", help="backfill: ignore the stored checkpoint"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        specs = [mirror.SPECS[name] for name in options["table"] or sorted(mirror.SPECS)]
        with self._aws_errors():
            mirror.check_tables(specs)
            for spec in specs:
                if options["backfill"]:
                    self._backfill(spec, options["start_after"], options["restart"])
                elif options["verify"] or options["repair"]:
                    self._verify(spec, repair=options["repair"])
                else:
                    self._push(spec)
        if getattr(self, "_drift_found", False):
            raise CommandError(
                "DynamoDB differs from the database (fix with --repair).", returncode=DRIFT
            )

    @contextmanager
    def _aws_errors(self) -> Iterator[None]:
        try:
            yield
        except mirror.MirrorUnavailable as exc:
            raise CommandError(str(exc), returncode=CONFIG_ERROR) from exc
        except (mirror.MirrorError, ClientError, BotoCoreError) as exc:
            raise CommandError(mirror.describe_error(exc), returncode=DRIFT) from exc

    def _progress(self, spec: mirror.MirrorSpec, total: int) -> tqdm:
        # The raw stream: OutputWrapper would end every redraw with a newline.
        return tqdm(total=total, desc=spec.table, unit="item", file=self.stderr._out, disable=None)

    def _push(self, spec: mirror.MirrorSpec) -> None:
        with self._progress(spec, spec.live().count()) as bar:
            written = mirror_bulk.push_all(spec, on_row=lambda _done: bar.update())
        self.stdout.write(f"{spec.table}: {written} written, others already newer or equal")

    def _backfill(self, spec: mirror.MirrorSpec, start_after: int | None, restart: bool) -> None:
        key = checkpoint_key(spec)
        if start_after is None:
            start_after = 0 if restart else int(cache.get(key, 0))
            if start_after:
                self.stdout.write(f"{spec.table}: resuming after row id {start_after}")
        total = spec.live().filter(pk__gt=start_after).count()

        def on_batch(result: mirror_bulk.BackfillResult, size: int) -> None:
            cache.set(key, result.last_pk, timeout=None)
            bar.update(size)

        with self._progress(spec, total) as bar:
            try:
                result = mirror_bulk.backfill(spec, start_after, on_batch)
            except (mirror.MirrorError, ClientError, BotoCoreError) as exc:
                done = cache.get(key, start_after)
                raise CommandError(
                    f"{spec.table}: stopped after row id {done} ({mirror.describe_error(exc)}); "
                    "run again to resume",
                    returncode=DRIFT,
                ) from exc
        cache.delete(key)
        self.stdout.write(
            f"{spec.table}: {result.rows} items in {result.batches} requests, "
            f"{result.rewritten} rewritten after changing mid-batch"
        )

    def _verify(self, spec: mirror.MirrorSpec, repair: bool) -> None:
        drift = mirror_bulk.verify(spec)
        self.stdout.write(
            f"{spec.table}: {drift.rows} rows, {drift.items} items: {len(drift.missing)} missing, "
            f"{len(drift.extra)} extra, {len(drift.different)} different"
        )
        for label, keys in (
            ("missing", drift.missing),
            ("extra", list(drift.extra)),
            ("different", list(drift.different)),
        ):
            if keys:
                shown = ", ".join(mask_phone(k) for k in keys[:SHOWN])
                more = f" and {len(keys) - SHOWN} more" if len(keys) > SHOWN else ""
                self.stdout.write(f"  {label}: {shown}{more}")
        if not drift.total:
            return
        if not repair:
            self._drift_found = True
            return
        result = mirror_bulk.repair(drift)
        self.stdout.write(
            f"{spec.table}: repaired: {result.written} written, {result.deleted} deleted, "
            f"{result.skipped} changed meanwhile and left for the next check"
        )
