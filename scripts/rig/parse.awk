# Parse the output of one rig boot (or of the host-side unit tests) into
# test results. Plain POSIX awk (Debian's default mawk runs it).
#
# Input: the guest's serial log with \r removed and every "@@@ " marker
# moved to the start of its own line (check.sh does that).
#
# Variables (awk -v):
#   summary   file that receives machine-readable records for check.sh:
#               COUNT <passed> <failed> <skipped>
#               STARTED | FINISHED           (/init ran | reached the end)
#               DONE <key> | RERUN <key> <ok|failed>
#               OPEN <key> [rerun]           (began, never ended: wedged)
#               STUCK <key>                  (guest alive, binary unkillable)
#               NOTRUN <key>                 (its module did not load)
#   dmesgf    file that receives the guest's dmesg dump
#   consolef  file that receives kernel messages seen live on the console
#   timeout   the per-binary timeout in seconds (to recognise a timeout)
#   unit      if set: the whole input is the output of one host-side
#             program named $unit with exit status $unit_rc
#
# A key is PHASE/BINARY (e.g. kvm/basic, smp-hvx/migrate). Results are
# printed as
#   ok kvm/basic: 3 - api version
# Besides its TAP results, a binary counts ONE extra failure if it timed
# out, died of a signal, exited non-zero without a "not ok" to explain it
# (4 = kselftest's SKIP is fine), bailed out, printed no plan, or printed a
# different number of results than planned. Results of a rerun (a wedged
# binary run again in a fresh boot) are shown but not counted.

function reset_block() {
	nres = 0; npass = 0; nfail = 0; nskip = 0
	plan = -1; planskip = 0; skipwhy = ""; bail = 0; nlines = 0
}

function count(what) {
	if (rerun) return
	if (what == "pass") PASS++
	else if (what == "fail") FAIL++
	else SKIP++
}

# One line of a binary's output: TAP results at top level only (indented
# lines are subtests, already summarised by their parent's result).
function tap(line,    l, n) {
	buf[++nlines] = line
	if (line ~ /^not ok/) {
		nres++
		if (line ~ /#[ \t]*[Tt][Oo][Dd][Oo]/) { nskip++; count("skip") }
		else { nfail++; count("fail") }
		l = line; sub(/^not ok/, "not ok " key ":", l)
		print prefix l
	} else if (line ~ /^ok([ \t]|$)/) {
		nres++
		if (line ~ /#[ \t]*[Ss][Kk][Ii][Pp]/) { nskip++; count("skip") }
		else { npass++; count("pass") }
		l = line; sub(/^ok/, "ok " key ":", l)
		print prefix l
	} else if (line ~ /^1\.\.[0-9]+/) {
		n = line; sub(/^1\.\./, "", n); sub(/[^0-9].*/, "", n)
		plan = (plan < 0 ? 0 : plan) + n
		if (n == 0 && line ~ /#[ \t]*[Ss][Kk][Ii][Pp]/) {
			planskip = 1
			skipwhy = line; sub(/^[^#]*#[ \t]*[Ss][Kk][Ii][Pp][ \t]*/, "", skipwhy)
		}
	} else if (line ~ /^Bail out!/) {
		bail = 1
	}
}

function dump_output(why,    i) {
	if (nlines > 0 && buf[nlines] == "") nlines--  # /init's newline
	print prefix "--- output of " key " (" why ") ---"
	for (i = 1; i <= nlines; i++)
		print prefix "    | " buf[i]
	print prefix "--- end of " key " ---"
}

# Decide on the extra failure and report the block. rc < 0: never ended.
function finish_block(rc, cs,    why, t, ok) {
	why = ""
	t = sprintf("%.2f s", cs / 100)
	if (rc < 0) {
		why = "did not finish"
	} else {
		if ((rc == 124 || rc == 137 || rc == 143) && cs >= (timeout - 1) * 100)
			why = "timed out after " timeout " s"
		else if (rc >= 128)
			why = "killed by signal " (rc - 128)
		else if (rc != 0 && !(nfail > 0) && !(rc == 4))
			why = "exit status " rc " without a failed test"
		if (bail) why = why (why ? "; " : "") "bailed out"
		# Host-side unit tests may come from several programs or a
		# harness that prints no plan: only a plan printed is checked.
		if (plan < 0 && !why && unit == "") why = "no TAP plan (1..N)"
		else if (plan >= 0 && plan != nres && !planskip && !why)
			why = "planned " plan " results, printed " nres
	}
	if (planskip && nres == 0 && why == "") {
		nskip++; count("skip")
		print prefix "ok " key ": # SKIP " (skipwhy != "" ? skipwhy : "whole binary")
	}
	if (why != "") {
		nfail++; count("fail")
		print prefix "not ok " key ": binary: " why " (rc=" rc ", " t ")"
	}
	if (nfail > 0 || why != "")
		dump_output("rc=" rc ", " t)
	ok = (nfail == 0 && why == "")
	if (rerun) print "RERUN " key " " (ok ? "ok" : "failed") > summary
	else if (rc >= 0) print "DONE " key > summary
	inblk = 0
}

BEGIN {
	PASS = 0; FAIL = 0; SKIP = 0; inblk = 0; indm = 0
	if (unit != "") {
		key = unit; prefix = ""; rerun = 0; inblk = 1; reset_block()
		print "STARTED" > summary
	}
}

unit != "" { tap($0); next }

/^@@@ DMESG BEGIN/ { indm = 1; next }
/^@@@ DMESG END/ { indm = 0; next }
indm { print > dmesgf; next }

# The serial console is shared: a kernel message can cut into a marker line
# the guest was writing ("@@@ END system [  107.9] hvx: ...", then the rest
# of the marker on the next line). Keep the message for the console scan
# and put the marker back together.
/^@@@ .*\[ *[0-9]+\.[0-9]+\] / {
	i = match($0, /\[ *[0-9]+\.[0-9]+\] /)
	print substr($0, i) > consolef
	head = substr($0, 1, i - 1)
	if ((getline rest) > 0)
		$0 = head rest
	else
		$0 = head
}

/^@@@ RIG START/ { print "STARTED" > summary; next }
/^@@@ RIG DONE/ { print "FINISHED" > summary; next }

/^@@@ BEGIN / {
	if (inblk) finish_block(-1, 0)
	key = $3 "/" $4
	rerun = ($5 == "rerun")
	prefix = rerun ? "rerun: " : ""
	inblk = 1
	reset_block()
	next
}
/^@@@ END / {
	if (!inblk || key != $3 "/" $4) next  # stray marker
	rc = $5; sub(/^rc=/, "", rc)
	cs = $6; sub(/^cs=/, "", cs)
	finish_block(rc + 0, cs + 0)
	next
}
/^@@@ STUCK / {
	# "STUCK kvm basic" (a test) or "STUCK insmod kvm" etc.
	print "STUCK " $3 "/" $4 > summary
	next
}
/^@@@ NOTRUN / {
	print "NOTRUN " $3 "/" $4 > summary
	print "rig: " $3 "/" $4 " not run: its module did not load"
	next
}
/^@@@ ONLINE / {
	# "ONLINE cpu1 after smp-hvx/hotplug": /init brought back a CPU that
	# the step left offline (it failed or was killed half-way).
	print "rig: " $3 " was left offline by " $5 "; /init brought it back online"
	next
}
/^@@@ (INSMOD|RMMOD) / {
	rc = $4; sub(/^rc=/, "", rc)
	if (rc != 0) {
		FAIL++
		print "not ok rig: " tolower($2) " " $3 " failed (rc=" rc ")"
		inmod = 1
	} else inmod = 0
	next
}
/^@@@ / { inmod = 0; next }  # ALIVE heartbeats, unknown markers

# Kernel messages on the console (errors pass "quiet"): keep for the host.
/^\[ *[0-9]+\.[0-9]+\]/ { print > consolef }
inmod { print "    | " $0 }   # insmod/rmmod error text
inblk { tap($0) }

END {
	if (unit != "") {
		finish_block(unit_rc + 0, 0)
	} else if (inblk) {
		print "OPEN " key (rerun ? " rerun" : "") > summary
		if (nlines > 0) dump_output("did not finish")
	}
	print "COUNT " PASS " " FAIL " " SKIP > summary
}
