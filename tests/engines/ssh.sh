#!/bin/sh
# ssh.sh CSVREG DOCS - GNU parallel over ssh (issue 15): an unprivileged sshd
# on 127.0.0.1 (its own host key, authorized_keys and config; a port above
# 1024; as root or a plain user), two host aliases for it, and the recipe
# `ssh` of docs/engines.md run as written: the answer of one pass to 1e-11.
# Then the same without --env PATH: the remote side has no csvreg, and the
# pipeline must fail (no partial answer).
. "$(dirname "$0")/common.sh"

SSHD=$(command -v sshd || echo /usr/sbin/sshd)
[ -x "$SSHD" ] || fail "sshd is not installed (openssh-server)"
command -v ssh >/dev/null || fail "ssh is not installed (openssh-client)"
command -v parallel >/dev/null || fail "GNU parallel is not installed"

S=$T/ssh
mkdir -p "$S"
ssh-keygen -q -t ed25519 -N '' -f "$S/host_key"
ssh-keygen -q -t ed25519 -N '' -f "$S/id"
cp "$S/id.pub" "$S/authorized_keys"
PORT=$(free_port)
cat > "$S/sshd_config" <<CONF
Port $PORT
ListenAddress 127.0.0.1
HostKey $S/host_key
PidFile $S/sshd.pid
AuthorizedKeysFile $S/authorized_keys
UsePAM no
StrictModes no
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
CONF
# sshd started as root wants its privilege separation directory
if [ "$(id -u)" = 0 ] && [ ! -d /run/sshd ]; then mkdir -p /run/sshd && chmod 755 /run/sshd; fi
"$SSHD" -D -e -f "$S/sshd_config" 2> "$S/sshd.log" &
SSHD_PID=$!
on_exit_kill $SSHD_PID
# its sessions (children of this sshd) end before it
on_exit_run "pkill -TERM -P $SSHD_PID 2>/dev/null"
cat > "$S/ssh_config" <<CONF
Host host1 host2
  HostName 127.0.0.1
  Port $PORT
  User $(id -un)
  IdentityFile $S/id
  IdentitiesOnly yes
  StrictHostKeyChecking no
  UserKnownHostsFile /dev/null
  BatchMode yes
  LogLevel ERROR
CONF
export PARALLEL_SSH="ssh -F $S/ssh_config"
up=0
for _ in $(seq 100); do
  if $PARALLEL_SSH host1 true 2>/dev/null; then up=1; break; fi
  sleep 0.1
done
[ $up = 1 ] || { cat "$S/sshd.log"; fail "sshd did not accept a login"; }
echo "sshd up on 127.0.0.1:$PORT"

gen big.csv 20000 31
csvreg fit -y y --format json big.csv > one.json
recipe ssh > recipe.sh
cat recipe.sh
sh -eu recipe.sh > out.json || fail "the ssh recipe failed"
same one.json out.json "parallel -S host1,host2 (recipe ssh)"

# Without --env PATH the remote shell has no csvreg: the pipeline fails
# (merge finds no state), it does not print a partial answer.
sed 's/ --env PATH//' recipe.sh > nopath.sh
grep -q -- '--env PATH' nopath.sh && fail "could not remove --env PATH"
if sh -eu nopath.sh > bad.json 2> bad.err; then fail "the recipe without --env PATH succeeded"; fi
[ ! -s bad.json ] || fail "a partial answer without --env PATH"
echo "without --env PATH: fails as expected: $(tail -1 bad.err)"
echo PASS
