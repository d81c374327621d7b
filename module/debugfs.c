// SPDX-License-Identifier: GPL-2.0
/*
 * Per-VM statistics in debugfs, laid out as KVM lays out its own
 * (/sys/kernel/debug/kvm/<pid>-<vm fd>/<stat>), so that one tool or test
 * reads both: /sys/kernel/debug/hvx/<pid>-<vm fd>/pages_4k and pages_2m,
 * the second-level leaves of each size currently mapped. A debugging aid
 * (debugfs is no ABI), and what the selftests check huge pages with.
 * Module-wide state sits beside the VMs' directories (crash_callback).
 */
#define pr_fmt(fmt) "hvx: " fmt

#include <linux/debugfs.h>
#include <linux/kernel.h>
#include <linux/sched.h>

#include "hvx.h"

static struct dentry *hvx_debugfs_root;

void hvx_debugfs_init(void)
{
	hvx_debugfs_root = debugfs_create_dir("hvx", NULL);
	hvx_crash_debugfs(hvx_debugfs_root);
}

void hvx_debugfs_exit(void)
{
	debugfs_remove_recursive(hvx_debugfs_root);
	hvx_debugfs_root = NULL;
}

/* The counters change under mmu.lock; a reader takes a snapshot. */
static int hvx_stat_get(void *data, u64 *val)
{
	*val = READ_ONCE(*(unsigned long *)data);
	return 0;
}

/*
 * Reads go through debugfs_file_get(), so removing the directory waits for
 * readers and the VM may be freed right after (no reference needed).
 */
DEFINE_DEBUGFS_ATTRIBUTE(hvx_stat_fops, hvx_stat_get, NULL, "%llu\n");

void hvx_vm_debugfs_create(struct hvx_vm *vm, int fd)
{
	char name[32];
	struct dentry *dir;

	if (IS_ERR_OR_NULL(hvx_debugfs_root))
		return;
	snprintf(name, sizeof(name), "%d-%d", task_pid_nr(current), fd);
	/*
	 * An older VM of this process may still hold the name: its file was
	 * closed, freeing the fd number, but a vCPU file keeps it alive.
	 * That VM keeps the directory, this one goes without.
	 */
	dir = debugfs_lookup(name, hvx_debugfs_root);
	if (dir) {
		dput(dir);
		return;
	}
	dir = debugfs_create_dir(name, hvx_debugfs_root);
	if (IS_ERR(dir))
		return;
	debugfs_create_file_unsafe("pages_4k", 0444, dir, &vm->mmu.pages[0],
				   &hvx_stat_fops);
	debugfs_create_file_unsafe("pages_2m", 0444, dir, &vm->mmu.pages[1],
				   &hvx_stat_fops);
	vm->debugfs = dir;
}

void hvx_vm_debugfs_destroy(struct hvx_vm *vm)
{
	debugfs_remove_recursive(vm->debugfs);
	vm->debugfs = NULL;
}
