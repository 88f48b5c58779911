# bench/lib/postfix.sh: a private, stock Postfix (Debian's postfix
# package) for the SMTP row of bench/all.sh, beside the system's own
# instance, which it never touches. Source it, then:
#   postfix_conf DIR PORT DOMAIN
# writes DIR/etc/{main.cf,master.cf}: its queue in DIR/queue, its data in
# DIR/data, its log in DIR/maillog, smtpd on 127.0.0.1:PORT only,
# accepting mail for DOMAIN from loopback and delivering every recipient
# of DOMAIN by the virtual(8) agent into one Maildir, DIR/mail/box/, as
# nobody. Everything else is Postfix's defaults: the durable queue (a
# message is acknowledged after its queue file is fsynced; Postfix's
# delivery agents fsync the Maildir file too), chroot off (the private
# directories are not set up for it). Then:
#   postfix_start DIR       postfix -c DIR/etc start (waits for the port)
#   postfix_stop DIR        postfix -c DIR/etc stop
#   postfix_drained DIR N   waits (up to 600 s) until DIR/mail/box holds
#                           N messages and the queue is empty; prints the
#                           seconds that took, fails after 600 s
# Needs root (Postfix's master runs as root and drops to the postfix user).
postfix_conf() {
	local dir=$1 port=$2 domain=$3
	mkdir -p "$dir/etc" "$dir/queue" "$dir/data" "$dir/mail"
	chown postfix "$dir/data"
	chown nobody:nogroup "$dir/mail"
	cat > "$dir/etc/main.cf" <<CF
compatibility_level = 3.6
queue_directory = $dir/queue
data_directory = $dir/data
maillog_file = $dir/maillog
maillog_file_prefixes = $dir
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
myhostname = postfix.bench.test
mydestination =
mynetworks = 127.0.0.0/8
smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination
virtual_mailbox_domains = $domain
virtual_mailbox_base = $dir/mail
virtual_mailbox_maps = static:box/
virtual_uid_maps = static:$(id -u nobody)
virtual_gid_maps = static:$(id -g nobody)
virtual_minimum_uid = 1
message_size_limit = 52428800
virtual_mailbox_limit = 0
CF
	# master.cf: Debian's, with chroot off and smtpd on the private port.
	cat > "$dir/etc/master.cf" <<CF
127.0.0.1:$port inet n - n - - smtpd
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
tlsmgr    unix  -       -       n       1000?   1       tlsmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
proxywrite unix -       -       n       -       1       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
local     unix  -       n       n       -       -       local
virtual   unix  -       n       n       -       -       virtual
lmtp      unix  -       -       n       -       -       lmtp
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
CF
}

postfix_start() {
	local dir=$1 port
	# postfix writes its fatal errors to syslog unless stderr is a terminal:
	# script(1) gives it one, so a failure says why.
	script -qec "postfix -c $dir/etc check" /dev/null || return 1
	script -qec "postfix -c $dir/etc start" /dev/null >/dev/null || { script -qec "postfix -c $dir/etc status" /dev/null; tail -20 "$dir/maillog" >&2; return 1; }
	port=$(awk '/ inet /{split($1,a,":"); print a[2]; exit}' "$dir/etc/master.cf")
	for _ in $(seq 100); do
		python3 -c 'import socket,sys; socket.create_connection(("127.0.0.1",int(sys.argv[1])),1).close()' "$port" 2>/dev/null && return 0
		sleep 0.1
	done
	echo "postfix: smtpd did not listen on $port" >&2
	return 1
}

postfix_stop() {
	postfix -c "$1/etc" stop >/dev/null 2>&1 || true
}

postfix_drained() {
	python3 -c 'import os,sys,time
d,n=sys.argv[1],int(sys.argv[2]); t=time.perf_counter()
def count(p):
	c=0
	for sub in ("cur","new"):
		try: c+=len(os.listdir(os.path.join(p,sub)))
		except FileNotFoundError: pass
	return c
def queued(q):
	c=0
	for sub in ("incoming","active","deferred","maildrop"):
		for _,_,fs in os.walk(os.path.join(q,sub)): c+=len(fs)
	return c
while count(d+"/mail/box")<n or queued(d+"/queue"):
	if time.perf_counter()-t>600: sys.exit("postfix_drained: %d of %d delivered, %d queued after 600 s"%(count(d+"/mail/box"),n,queued(d+"/queue")))
	time.sleep(0.1)
print(f"{time.perf_counter()-t:.2f}")' "$1" "$2"
}
