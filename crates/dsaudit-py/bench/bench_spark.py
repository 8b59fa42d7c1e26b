"""dsaudit.spark.scan on Spark local[2] against `dsaudit scan` (release binary) on the
same image folder or CSV table, in one run: wall times, their ratio, the findings
compared, and Spark's own part (the time to list and read the folder through
binaryFile, or to read the CSV, counted with no dsaudit work); for a table, also the
bytes of the parts per row. Usage: bench_spark.py BIN IMAGES|TABLE.csv [PARTITIONS]."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time


def main() -> None:
    binary, images = sys.argv[1:3]
    partitions = int(sys.argv[3]) if len(sys.argv) > 3 else 8
    os.environ["PYSPARK_PYTHON"] = sys.executable
    from pyspark.sql import SparkSession
    from pyspark.sql import functions as F

    import dsaudit.spark

    spark = (
        SparkSession.builder.master("local[2]")
        .config("spark.ui.enabled", "false")
        .config("spark.driver.memory", "4g")
        # binaryFile counts each file as at least openCostInBytes (4 MB by default)
        # when it packs files into partitions: 32 small images per task, 3,125 tasks
        # for 100,000. At 8 KB a file costs what it holds.
        .config("spark.sql.files.openCostInBytes", str(8 << 10))
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("ERROR")
    if images.endswith(".csv"):
        table(spark, binary, images, partitions)
        spark.stop()
        return
    cli_args = [binary, "scan", "-q", "--fail-on", "never", "--format", "json", images]
    subprocess.run(cli_args, check=True, capture_output=True)  # warm the page cache
    start = time.perf_counter()
    cli = json.loads(subprocess.run(cli_args, check=True, capture_output=True).stdout)
    cli_s = time.perf_counter() - start

    def frame():
        parts = F.split(F.col("path"), "/")
        return (
            spark.read.format("binaryFile")
            .option("recursiveFileLookup", "true")
            .load(images)
            .withColumn("split", F.element_at(parts, -3))
            .withColumn("label", F.element_at(parts, -2))
            .repartition(partitions)
        )

    # Spark alone: list, read and shuffle every file's bytes, no dsaudit.
    start = time.perf_counter()
    n = frame().select(F.sum(F.length("content"))).collect()[0][0]
    read_s = time.perf_counter() - start
    start = time.perf_counter()
    report = dsaudit.spark.scan(frame(), root=images, fail_on="never")
    spark_s = time.perf_counter() - start
    got = json.loads(report.to_json())["datasets"][0]["findings"]
    want = cli["datasets"][0]["findings"]
    key = lambda fs: [(f["code"], f["message"], [s["source"] for s in f["samples"]]) for f in fs]
    samples = cli["datasets"][0]["splits"]
    count = sum(s["samples"] for s in samples)
    print(f"{count} images, {n / 1e6:.0f} MB; Spark local[2], {partitions} partitions")
    print(f"dsaudit scan (CLI)      {cli_s:7.2f} s  {count / cli_s:8.0f} images/s")
    print(f"dsaudit.spark.scan      {spark_s:7.2f} s  {count / spark_s:8.0f} images/s  = {spark_s / cli_s:.2f} x the CLI")
    print(f"Spark alone reading the same files (binaryFile, repartition, a sum of lengths; a job of its own): {read_s:.2f} s")
    print(f"findings identical: {key(got) == key(want)}")
    spark.stop()


def table(spark, binary: str, path: str, partitions: int) -> None:
    """The CSV read by Spark in PARTITIONS splits of the file (rows in file order),
    its schema inferred on a 1% sample of the lines."""
    from pyspark.sql import functions as F

    import dsaudit
    import dsaudit.spark

    cli_args = [binary, "scan", "-q", "--fail-on", "never", "--format", "json", path]
    subprocess.run(cli_args, check=True, capture_output=True)  # warm the page cache
    start = time.perf_counter()
    cli = json.loads(subprocess.run(cli_args, check=True, capture_output=True).stdout)
    cli_s = time.perf_counter() - start
    size = os.path.getsize(path)
    spark.conf.set("spark.sql.files.maxPartitionBytes", str(size // partitions + 1))
    name = os.path.basename(path)
    key = lambda fs: [(f["code"], f["message"], [(s["source"], s.get("row")) for s in f["samples"]]) for f in fs]
    want = cli["datasets"][0]

    def timed(what: str, run):
        start = time.perf_counter()
        out = run()
        return out, time.perf_counter() - start

    # Two ways in: the schema inferred by Spark (a pass of its own over the file, on 1%
    # of the lines), timed with the scan; and the schema given, as a table that has
    # one (Parquet, a catalog) is read: inferred once here, untimed.
    infer = lambda: spark.read.csv(path, header=True, inferSchema=True, samplingRatio=0.01)
    schema = infer().schema
    given = lambda: spark.read.csv(path, header=True, schema=schema)
    # Warm-up: the JVM's first job, the Python workers, the parts (weighed).
    weigh = dsaudit.spark._table_parts(given(), label=None, split=None, name=name, memory_limit=None)
    part_bytes = sum(len(p) for p in weigh)
    rows = want["samples"]
    print(f"{rows} rows, {size / 1e6:.0f} MB; Spark local[2], {partitions} partitions")
    print(f"dsaudit scan (CLI)                 {cli_s:7.2f} s  {rows / cli_s:9.0f} rows/s")
    for label, frame in (("schema inferred", infer), ("schema given", given)):
        (_, read_s) = timed("read", lambda: frame().select(F.count(F.lit(1)), F.sum(F.col(schema.names[0]))).collect())
        report, spark_s = timed("scan", lambda: dsaudit.spark.scan(frame(), name=name, fail_on="never"))
        got = json.loads(report.to_json())["datasets"][0]
        same = key(got["findings"]) == key(want["findings"])
        print(f"dsaudit.spark.scan, {label:15} {spark_s:7.2f} s  {rows / spark_s:9.0f} rows/s  = {spark_s / cli_s:.2f} x the CLI; findings identical: {same}")
        print(f"  Spark alone reading the CSV ({label}; every row parsed, a count and a sum): {read_s:.2f} s")
        if not same:
            for a, b in zip(key(got["findings"]), key(want["findings"])):
                if a != b:
                    print("  spark:", str(a)[:300])
                    print("  cli:  ", str(b)[:300])
    print(f"parts: {len(weigh)}, {part_bytes} bytes = {part_bytes / rows:.1f} bytes per row (sampled rows: {got.get('sampled_rows', 'none')})")


if __name__ == "__main__":
    main()
