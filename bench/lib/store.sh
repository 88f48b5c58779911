# bench/lib/store.sh: what a running `letterbox serve` still owes its
# store after a delivery benchmark. Source it, then:
#   text_backlog DB
# waits until the store's deferred full-text queue (fts_pending, see
# store/textindex.go) is empty and prints the seconds that took; after
# 600 s it fails instead. The server acknowledges a message once it is
# durable and indexes its text when deliveries pause (or when 10,000
# wait), so a delivery rate alone leaves that work out; the SMTP figures
# print it beside the rate, and waiting here keeps it from running during
# the next measurement. The index is read with SQLite's read-only WAL
# access, beside the server.
text_backlog() {
	python3 -c 'import sqlite3,sys,time
c=sqlite3.connect("file:"+sys.argv[1]+"?mode=ro",uri=True)
t=time.perf_counter()
while c.execute("SELECT COUNT(*) FROM fts_pending").fetchone()[0]:
	if time.perf_counter()-t > 600:
		sys.exit("text_backlog: the full-text queue did not empty in 600 s")
	time.sleep(0.02)
print(f"{time.perf_counter()-t:.2f}")' "$1"
}
