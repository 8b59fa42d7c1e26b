"""dsaudit.spark.scan on Spark local[2] against `dsaudit scan` (release binary) on the
same image folder, in one run: wall times, their ratio, the findings compared, and
Spark's own part (the time to list and read the folder through binaryFile, counted
with no dsaudit work). Usage: bench_spark.py BIN IMAGES [PARTITIONS]."""

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


if __name__ == "__main__":
    main()
