-- wrk -s bench/p95.lua: after the run, print the latency percentiles wrk's --latency does not (p95).
done = function(summary, latency, requests)
  io.write(string.format("PCT p50_ms=%.2f p95_ms=%.2f p99_ms=%.2f requests=%d non2xx=%d\n",
    latency:percentile(50) / 1000, latency:percentile(95) / 1000, latency:percentile(99) / 1000,
    summary.requests, summary.errors.status))
end
