# bench/lib/dovecot.sh: the private Dovecot the bench scripts compare
# against, written once. Source it, then:
#   dovecot_conf DIR CERT KEY UID GID IMAPS_PORT POP3S_PORT [EXTRA_LINES]
# writes DIR/dovecot.conf: state under DIR, Maildirs in DIR/mail/USER,
# users in DIR/passwd (passwd-file, PLAIN), IMAPS and POP3S on loopback
# only (the plain ports off, unless DC_IMAP_PORT names a port for IMAP
# with STARTTLS). internal/testpeer/dovecot.go is the Go version the tests
# use.
dovecot_conf() {
	local dir=$1 cert=$2 key=$3 uid=$4 gid=$5 imaps=$6 pop3s=$7 extra=${8:-}
	cat > "$dir/dovecot.conf" <<CONF
base_dir = $dir/run
state_dir = $dir/state
log_path = $dir/dovecot.log
protocols = imap pop3
listen = 127.0.0.1
ssl = yes
ssl_cert = <$cert
ssl_key = <$key
auth_mechanisms = plain login
mail_location = maildir:$dir/mail/%u:LAYOUT=fs
$extra
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%u $dir/passwd
}
userdb {
  driver = static
  args = uid=$uid gid=$gid home=$dir/home/%u
}
service imap-login {
  inet_listener imap {
    port = ${DC_IMAP_PORT:-0}
  }
  inet_listener imaps {
    port = $imaps
    ssl = yes
  }
}
service pop3-login {
  inet_listener pop3 {
    port = 0
  }
  inet_listener pop3s {
    port = $pop3s
    ssl = yes
  }
}
service stats {
  unix_listener stats-reader {
    mode = 0600
  }
  unix_listener stats-writer {
    mode = 0600
  }
}
CONF
}
