# bench/lib/fs.sh: the state of the filesystem a delivery benchmark runs on.
# Source it, then:
#   create_cost DIR
# prints the milliseconds one file creation takes in a new directory under
# DIR (500 creates). About 0.02 on a settled ext4; on this VM's ext4
# without a journal it is 10-40x that for up to five minutes after many
# files of the same block group were deleted (ext4's recently_deleted()
# scan), and every delivery creates a file, so the SMTP figures print it.
create_cost() {
	python3 -c 'import os,sys,time,tempfile
d=tempfile.mkdtemp(dir=sys.argv[1]); t=time.perf_counter()
for i in range(500): os.close(os.open(f"{d}/{i}", os.O_CREAT|os.O_EXCL|os.O_WRONLY))
print(f"{(time.perf_counter()-t)*2:.3f}")
for i in range(500): os.unlink(f"{d}/{i}")
os.rmdir(d)' "$1"
}

# settle DIR waits (up to SETTLE_MAX seconds, 600 by default) until a
# file create under DIR costs under 0.03 ms, probing every 15 s, and
# prints the last figure; the delivery and sync rows call it first, so
# that a run started soon after an earlier one's cleanup measures the
# program, not the filesystem.
settle() {
	local c t=0
	while :; do
		c=$(create_cost "$1")
		if python3 -c "import sys; sys.exit(0 if $c < 0.03 else 1)" || [ "$t" -ge "${SETTLE_MAX:-600}" ]; then
			break
		fi
		sleep 15
		t=$((t + 15))
	done
	echo "$c"
}
