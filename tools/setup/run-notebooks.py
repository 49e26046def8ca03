"""Executes the notebooks in notebooks/ headless with the Deno kernel (nbclient), every cell in order.

    run-notebooks.py [--update] [NAME.ipynb ...]

Check mode (the default, what CI runs): each notebook is executed from a copy and the executed copy
is saved under .cache/notebooks/executed/. A notebook fails when a cell raises, when it shows no
picture, when an output names this machine's repository path, or when its committed outputs are
stale: the committed file records the SHA-256 of the code it was executed from
(metadata.fastvlm.code_sha256), and its code cells must still hash to it and carry execution counts
1, 2, 3... (run top to bottom in one go). Outputs themselves are never compared: timings and the
adapter differ from machine to machine.

--update executes each notebook and writes it back in place with its outputs and the code hash
(what a developer runs after editing a notebook).

Prints one line per notebook and a summary: how many ran, passed and failed, and the time.

A cell may run for 900 s (3600 s when FASTVLM_MODEL names real weights) before the notebook fails.
"""

import argparse
import hashlib
import json
import os
import queue
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionComplete, CellExecutionError, CellTimeoutError, DeadKernelError
from nbclient.util import ensure_async

ROOT = Path(__file__).resolve().parents[2]
FOLDER = ROOT / "notebooks"
EXECUTED = ROOT / ".cache" / "notebooks" / "executed"
# A cell's time limit: a bound that catches a hung kernel, not a timing. On a CPU adapter a cell's
# first dispatch of each pipeline compiles it (lavapipe: LLVM at first use), so a machine whose Mesa
# shader cache is empty pays every compile inside the cells: notebook 06 on the demo model took
# 171 s with the cache warm and went past 300 s in one cell with it emptied (2-vCPU development
# machine, 2026-12-03). With real weights (FASTVLM_MODEL) a cell that generates with FastVLM-0.5B
# several times takes many minutes.
CELL_TIMEOUT_S = 3600 if os.environ.get("FASTVLM_MODEL", "").strip() else 900
PICTURE_TYPES = ("image/png", "image/svg+xml")


class DenoNotebookClient(NotebookClient):
    """nbclient for Deno's kernel (2.9), which often publishes some of a cell's outputs (stdout lines,
    even its execute_result) after the cell's 'idle' status; nbclient stops listening at 'idle' and
    would drop them (about one cell in three lost output in a test of 30). Here a late message is
    routed to the cell it belongs to (by its parent message id), and after each cell a kernel_info
    round trip and a short quiet wait let the stragglers arrive before the next cell runs."""

    QUIET_S = 0.2

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._cell_of_request: dict = {}

    def _route_late(self, msg) -> None:
        target = self._cell_of_request.get(msg["parent_header"].get("msg_id"))
        if target is None or msg["msg_type"] == "status":
            return
        try:
            self.process_message(msg, *target)
        except CellExecutionComplete:
            pass

    async def _async_poll_output_msg(self, parent_msg_id, cell, cell_index) -> None:
        self._cell_of_request[parent_msg_id] = (cell, cell_index)
        while True:
            msg = await ensure_async(self.kc.iopub_channel.get_msg(timeout=None))
            if msg["parent_header"].get("msg_id") != parent_msg_id:
                self._route_late(msg)
                continue
            try:
                self.process_message(msg, cell, cell_index)
            except CellExecutionComplete:
                return

    async def _async_collect_late_outputs(self) -> None:
        request = self.kc.kernel_info()
        while (await ensure_async(self.kc.shell_channel.get_msg(timeout=60)))["parent_header"].get("msg_id") != request:
            pass
        while True:
            try:
                msg = await ensure_async(self.kc.iopub_channel.get_msg(timeout=self.QUIET_S))
            except queue.Empty:
                return
            self._route_late(msg)

    async def async_execute_cell(self, cell, cell_index, execution_count=None, store_history=True):
        cell = await super().async_execute_cell(cell, cell_index, execution_count, store_history)
        if cell.cell_type == "code" and cell.source.strip():
            await self._async_collect_late_outputs()
        return cell


def join_streams(nb) -> None:
    """Consecutive stdout (or stderr) outputs of a cell as one output, as Jupyter shows them."""
    for cell in nb.cells:
        merged = []
        for output in cell.get("outputs", []):
            last = merged[-1] if merged else None
            if (
                last is not None
                and output.output_type == "stream"
                and last.output_type == "stream"
                and last.name == output.name
            ):
                last.text += output.text
            else:
                merged.append(output)
        if cell.cell_type == "code":
            cell.outputs = merged


def code_sha256(nb) -> str:
    """The hash of a notebook's code: its code cells' sources, in order."""
    sources = [cell.source for cell in nb.cells if cell.cell_type == "code"]
    return hashlib.sha256(json.dumps(sources).encode("utf-8")).hexdigest()


def stale_reason(nb) -> str | None:
    """Why the committed outputs do not belong to the committed code, or None when they do."""
    recorded = nb.metadata.get("fastvlm", {}).get("code_sha256")
    if recorded is None:
        return "it was never executed by this runner (no metadata.fastvlm.code_sha256)"
    if recorded != code_sha256(nb):
        return "its code changed after it was executed"
    counts = [cell.get("execution_count") for cell in nb.cells if cell.cell_type == "code"]
    if counts != list(range(1, len(counts) + 1)):
        return f"its code cells were not executed top to bottom in one run (execution counts {counts})"
    return None


def pictures(nb) -> int:
    return sum(
        1
        for cell in nb.cells
        if cell.cell_type == "code"
        for output in cell.get("outputs", [])
        if any(kind in output.get("data", {}) for kind in PICTURE_TYPES)
    )


def execute(path: Path, update: bool) -> tuple[bool, str]:
    committed = nbformat.read(path, as_version=4)
    nb = nbformat.read(path, as_version=4)
    client = DenoNotebookClient(
        nb,
        timeout=CELL_TIMEOUT_S,
        startup_timeout=120,
        kernel_name="deno",
        record_timing=False,
        resources={"metadata": {"path": str(FOLDER)}},
    )
    problem = None
    try:
        client.execute()
    except CellExecutionError as error:
        problem = f"a cell failed:\n{error}"
    except (CellTimeoutError, DeadKernelError) as error:
        problem = f"{type(error).__name__}: {error}"
    join_streams(nb)
    nb.metadata["fastvlm"] = {"code_sha256": code_sha256(nb)}
    EXECUTED.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, EXECUTED / path.name)
    if problem:
        return False, problem
    text = json.dumps([cell.get("outputs", []) for cell in nb.cells])
    if str(ROOT) in text:
        return False, f"an output names the repository's path on this machine ({ROOT}); print paths relative to it"
    count = pictures(nb)
    if count == 0:
        return False, "it shows no picture"
    if update:
        nbformat.write(nb, path)
        return True, f"{count} pictures, written back"
    reason = stale_reason(committed)
    if reason:
        return False, f"committed outputs are stale: {reason}; run `npm run notebooks -- --update {path.name}`"
    return True, f"{count} pictures"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--update", action="store_true", help="write executed notebooks back in place")
    parser.add_argument("names", nargs="*", help="notebook file names in notebooks/ (default: all)")
    args = parser.parse_args()
    paths = [FOLDER / name for name in args.names] if args.names else sorted(FOLDER.glob("*.ipynb"))
    missing = [str(p.relative_to(ROOT)) for p in paths if not p.is_file()]
    if missing or not paths:
        print(f"[notebooks] no such notebook: {', '.join(missing) or 'notebooks/*.ipynb'}", file=sys.stderr)
        return 1
    start = time.monotonic()
    passed = 0
    for path in paths:
        began = time.monotonic()
        ok, detail = execute(path, args.update)
        seconds = time.monotonic() - began
        passed += ok
        print(f"[notebooks] {'ok  ' if ok else 'FAIL'} {path.name} ({seconds:.1f} s): {detail}", flush=True)
    total = time.monotonic() - start
    failed = len(paths) - passed
    print(f"[notebooks] {len(paths)} executed, {passed} passed, {failed} failed in {total:.0f} s", flush=True)
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
