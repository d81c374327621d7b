// SPDX-License-Identifier: GPL-2.0
/*
 * Leaving VMX/SVM when the host crashes.
 *
 * A crash runs no reboot notifier: the kernel's crash path calls one
 * registered callback (cpu_emergency_register_virt_callback()) on the
 * crashing CPU and, from the shootdown NMI, on every other one. A CPU
 * left in VMX operation blocks INIT and faults when the kdump kernel
 * clears CR4.VMXE (SDM Vol 3 24.11, 24.8), so someone must run VMXOFF.
 *
 * The slot holds one callback, and registering over another owner WARNs.
 * The KVM vendor module takes it at load and its callback turns off
 * VMX/SVM wherever it is on, hvx's included; so hvx holds the slot only
 * while it has virtualization on and that module is not loaded. A module
 * notifier hands the slot over before the vendor module's init runs, and
 * takes it back after its exit (or its failed init) is done.
 */
#define pr_fmt(fmt) "hvx: " fmt

#include <linux/debugfs.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/namei.h>
#include <linux/notifier.h>
#include <linux/string.h>

#include "hvx.h"
#include "backend.h"
#include "compat.h"

static DEFINE_MUTEX(hvx_crash_lock);
static bool hvx_crash_virt_on;		/* hvx has VMX/SVM on (some VM alive) */
static bool hvx_crash_vendor_loaded;	/* kvm_intel / kvm_amd is loaded */
static bool hvx_crash_registered;

/* NMI context on a crashing host: no locks, no sleeping, no printk. */
static void hvx_crash_disable_virt(void)
{
	hvx_ops->emergency_disable();
}

/* Make the registration match the state. Called under hvx_crash_lock. */
static void hvx_crash_update(void)
{
	bool want = hvx_crash_virt_on && !hvx_crash_vendor_loaded;

	if (want == hvx_crash_registered)
		return;
	if (want)
		hvx_register_emergency_virt_cb(hvx_crash_disable_virt);
	else
		hvx_unregister_emergency_virt_cb(hvx_crash_disable_virt);
	hvx_crash_registered = want;
}

/* The first VM turned virtualization on (@on), or the last VM is gone. */
void hvx_crash_set_virt(bool on)
{
	mutex_lock(&hvx_crash_lock);
	hvx_crash_virt_on = on;
	hvx_crash_update();
	mutex_unlock(&hvx_crash_lock);
}

static bool hvx_crash_is_vendor(struct module *mod)
{
	return !strcmp(mod->name, hvx_ops->kvm_module);
}

/*
 * COMING is sent before the module's init runs, GOING after its exit or
 * a failed init (kernel/module/main.c), so the slot is free whenever the
 * vendor module reaches for it.
 */
static int hvx_crash_module_event(struct notifier_block *nb,
				  unsigned long state, void *data)
{
	struct module *mod = data;

	if (!hvx_crash_is_vendor(mod) ||
	    (state != MODULE_STATE_COMING && state != MODULE_STATE_GOING))
		return NOTIFY_DONE;
	mutex_lock(&hvx_crash_lock);
	hvx_crash_vendor_loaded = state == MODULE_STATE_COMING;
	hvx_crash_update();
	mutex_unlock(&hvx_crash_lock);
	return NOTIFY_OK;
}

static struct notifier_block hvx_crash_module_nb = {
	.notifier_call = hvx_crash_module_event,
};

/*
 * The kernel exports no lookup of a module by name; its sysfs directory
 * exists from before COMING until after GOING.
 */
static bool hvx_crash_vendor_present(void)
{
	char name[64];
	struct path path;

	snprintf(name, sizeof(name), "/sys/module/%s", hvx_ops->kvm_module);
	if (kern_path(name, 0, &path))
		return false;
	path_put(&path);
	return true;
}

/*
 * /sys/kernel/debug/hvx/crash_callback: Y while hvx holds the callback,
 * for the rig's kexec test, which watches it change hands.
 */
void hvx_crash_debugfs(struct dentry *root)
{
	debugfs_create_bool("crash_callback", 0444, root, &hvx_crash_registered);
}

void hvx_crash_init(void)
{
	if (!hvx_have_emergency_virt_cb())
		return;
	/* Notifier first: a load racing with the lookup is seen by one of them. */
	register_module_notifier(&hvx_crash_module_nb);
	mutex_lock(&hvx_crash_lock);
	hvx_crash_vendor_loaded = hvx_crash_vendor_present();
	mutex_unlock(&hvx_crash_lock);
}

/* After the last VM: virtualization is off, the slot already given up. */
void hvx_crash_exit(void)
{
	if (!hvx_have_emergency_virt_cb())
		return;
	unregister_module_notifier(&hvx_crash_module_nb);
	WARN_ON_ONCE(hvx_crash_registered);
}
