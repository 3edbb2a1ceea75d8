"""build-record: the files are the ones their build stages made, and those stages succeeded.

Each build stage records the sha256 of what it delivered. A file whose bytes differ changed
after it was built; a build stage that failed once it had started (or was interrupted) means
the files of its platform in the dist dir may be left over from an earlier build. A stage
refused (a wrong tag, a missing tool) changed nothing: the earlier build's record stays, and
the files are judged by it; the refusal's own record is there only where no earlier one was.
A record that cannot be read is said, since the checks that lean on it (this one, wheel-set's
skipped platforms) cannot.
"""

from __future__ import annotations

from collections.abc import Sequence

from ..dists import Distribution
from ..records import FAILED, INTERRUPTED, RECORD_DIR, Finding, StageRecord
from .base import Check, CheckContext, NotRun


class BuildRecordCheck(Check):
    name = "build-record"
    runs_without_files = True

    def run(self, dists: Sequence[Distribution], ctx: CheckContext) -> list[Finding]:
        if not ctx.build_records and not ctx.damaged_records:
            # Files copied out of an artifact, without the records beside them: nothing to
            # compare with, which is not the same as "the same bytes".
            raise NotRun(
                f"no build records in {ctx.dist_dir / RECORD_DIR}, so the files were not "
                "compared with what their build stages made"
            )
        found = [
            self.error(damaged.cause, remedy=damaged.remedy)
            for damaged in ctx.damaged_records.values()
        ]
        built: dict[str, tuple[str, str]] = {}
        for stage, record in ctx.build_records.items():
            if record.refused:
                # Written only where no earlier run's record was (that one would stand).
                found.append(self._refused(stage, record))
            elif record.status in (FAILED, INTERRUPTED):
                cause = (record.error or {}).get("cause", "no cause recorded")
                found.append(
                    self.error(
                        f"{stage} {record.status} ({cause.rstrip('.')}); the files of its "
                        "platform in the dist dir are not from this build",
                        remedy=f"fix {stage} and run it again (nox -s {stage}), then validate.",
                    )
                )
            built.update({a.name: (stage, a.sha256) for a in record.artifacts})
        for dist in dists:
            stage, expected = built.get(dist.filename, ("", ""))
            # How the file was changed is integrity's to say (and its advice); this one says
            # which build made the file, and so which one to run again. A file that is not
            # even a readable archive is integrity's alone (truncated: build or download it
            # again), not an edit to undo.
            if expected and dist.sha256 != expected and dist.readable:
                found.append(
                    self.error(
                        f"it is not the file {stage} made: its sha256 differs from the one "
                        f"{stage} recorded",
                        dist.filename,
                        f"run {stage} again (nox -s {stage}), then validate.",
                    )
                )
        return found

    def _refused(self, stage: str, record: StageRecord) -> Finding:
        error = record.error or {}
        cause = str(error.get("cause") or "no cause recorded").rstrip(".")
        first = str(error.get("remedy") or f"fix what refused {stage}").rstrip(".")
        return self.error(
            f"{stage} was refused ({cause}); it built none of the files of its platform in "
            "the dist dir",
            remedy=f"{first}; then run {stage} again (nox -s {stage}), then validate.",
        )
