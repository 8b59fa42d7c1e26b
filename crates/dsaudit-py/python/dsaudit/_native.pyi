# The compiled engine behind `dsaudit`; call the typed functions of `dsaudit` instead.
from typing import Any, Dict, List, Optional

__version__: str

class DatasetError(Exception): ...

class Scanned:
    def report(self, format: str, max_samples: int = 10) -> str: ...
    def write_html(self, path: str) -> None: ...
    def exit_code(self) -> int: ...
    def manifest_stream(self) -> object: ...

def scan(
    path: str,
    select: List[str],
    ignore: List[str],
    thresholds: Dict[str, float],
    fail_on: Optional[str],
    label: Optional[str],
    split: Optional[str],
    layout: Optional[str],
    seed: int,
    label_model: str,
    isolated: bool,
    memory_limit: Optional[str],
    against: List[str],
) -> Scanned: ...
def scan_frame(
    stream: object,
    name: str,
    select: List[str],
    ignore: List[str],
    thresholds: Dict[str, float],
    fail_on: Optional[str],
    label: str,
    split: Optional[str],
    seed: int,
    label_model: str,
    against: List[str],
) -> Scanned: ...
def describe_rows(
    name: str,
    shard: str,
    sources: List[str],
    contents: List[Optional[bytes]],
    labels: List[Optional[str]],
    splits: List[Optional[str]],
) -> bytes: ...
def describe_table(
    stream: Any,
    name: str,
    order: int,
    label: Optional[str],
    split: Optional[str],
    memory_limit: Optional[str],
    table_rows: Optional[int],
) -> bytes: ...
def size_bytes(text: Optional[str]) -> int: ...
def merge_parts(
    parts: List[bytes],
    select: List[str],
    ignore: List[str],
    thresholds: Dict[str, float],
    fail_on: Optional[str],
    seed: int,
    label_model: str,
    against: List[str],
) -> Scanned: ...
def save_parts(parts: List[bytes], path: str, root: Optional[str]) -> None: ...
def label_issues(labels: bytes, pred_probs: bytes, k: int, method: str) -> bytes: ...
def quality_scores(labels: bytes, pred_probs: bytes, k: int, method: str) -> bytes: ...
def build(
    command: str,
    path: str,
    out: str,
    options: str,
    seed: int,
    overwrite: bool,
    materialize: Optional[str],
    isolated: bool,
) -> str: ...
def run_cli(args: List[str]) -> int: ...
