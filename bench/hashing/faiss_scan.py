"""FAISS side of bench/hashing/hamming.ts: IndexBinaryFlat top-k over the same 64-bit codes, one thread.

    /usr/bin/python3 faiss_scan.py DB_FILE QUERY_FILE K   (files of 8-byte codes) -> JSON on stdout

Debian's python3-faiss (1.7.3). Each mode runs a warm-up pass, then the timed one.
"""
import json
import sys
import time

import faiss
import numpy as np

faiss.omp_set_num_threads(1)
db_file, query_file, k = sys.argv[1], sys.argv[2], int(sys.argv[3])
db = np.fromfile(db_file, dtype=np.uint8).reshape(-1, 8)
queries = np.fromfile(query_file, dtype=np.uint8).reshape(-1, 8)
index = faiss.IndexBinaryFlat(64)
index.add(db)


def timed(run):
    run()
    start = time.perf_counter()
    result = run()
    return (time.perf_counter() - start) * 1e3 / len(queries), result


one_ms, _ = timed(lambda: [index.search(queries[i:i + 1], k) for i in range(len(queries))])
all_ms, (distances, _) = timed(lambda: index.search(queries, k))
json.dump({'oneAtATimeMs': one_ms, 'allQueriesMs': all_ms, 'version': faiss.__version__, 'distances': distances.tolist()}, sys.stdout)
