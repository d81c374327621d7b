// SPDX-License-Identifier: GPL-2.0
/*
 * hvx module entry: the /dev/hvx misc device, backend selection and the
 * per-CPU enabling of hardware virtualization.
 *
 * Every online CPU gets virtualization switched on when the first VM is
 * created, and off again when the last one goes, so that hvx holds
 * EFER.SVME / VMXON only while it has a guest. CPUs that come online in
 * between are enabled by the cpuhp callback; reboot turns everything off,
 * and so does a crash (crash.c).
 */
#define pr_fmt(fmt) "hvx: " fmt

#include <linux/module.h>
#include <linux/miscdevice.h>
#include <linux/fs.h>
#include <linux/cpu.h>
#include <linux/cpuhotplug.h>
#include <linux/reboot.h>
#include <linux/percpu.h>
#include <linux/preempt.h>

#include "hvx.h"
#include "backend.h"
#include "alloc.h"

const struct hvx_backend_ops *hvx_ops;

/* Number of VMs alive; changed only under hvx_virt_lock + cpus_read_lock. */
static unsigned int hvx_virt_users;
static DEFINE_MUTEX(hvx_virt_lock);
static DEFINE_PER_CPU(bool, hvx_cpu_on);
static atomic_t hvx_enable_failed;
static enum cpuhp_state hvx_cpuhp_state;
static bool hvx_rebooting;

static void hvx_cpu_enable(void *unused)
{
	if (__this_cpu_read(hvx_cpu_on))
		return;
	if (hvx_ops->cpu_enable()) {
		atomic_inc(&hvx_enable_failed);
		return;
	}
	__this_cpu_write(hvx_cpu_on, true);
}

static void hvx_cpu_disable(void *unused)
{
	if (!__this_cpu_read(hvx_cpu_on))
		return;
	hvx_ops->cpu_disable();
	__this_cpu_write(hvx_cpu_on, false);
}

/* Called for the first VM: switch on virtualization on every online CPU. */
int hvx_enable_virt(void)
{
	bool first = false;
	int r = 0;

	mutex_lock(&hvx_virt_lock);
	cpus_read_lock();
	if (hvx_rebooting) {
		r = -EBUSY;
		goto out;
	}
	if (hvx_virt_users++)
		goto out;
	atomic_set(&hvx_enable_failed, 0);
	on_each_cpu(hvx_cpu_enable, NULL, 1);
	if (atomic_read(&hvx_enable_failed)) {
		on_each_cpu(hvx_cpu_disable, NULL, 1);
		hvx_virt_users--;
		pr_err_ratelimited("another hypervisor owns the CPU's virtualization extensions; unload kvm_amd/kvm_intel (or boot with kvm.enable_virt_at_load=0 and close its VMs)\n");
		r = -EBUSY;
		goto out;
	}
	first = true;
out:
	cpus_read_unlock();
	if (first)
		hvx_crash_set_virt(true);
	mutex_unlock(&hvx_virt_lock);
	return r;
}

/* Called when the last VM is gone. */
void hvx_disable_virt(void)
{
	bool last = false;

	mutex_lock(&hvx_virt_lock);
	cpus_read_lock();
	if (!WARN_ON_ONCE(!hvx_virt_users) && !--hvx_virt_users) {
		on_each_cpu(hvx_cpu_disable, NULL, 1);
		last = true;
	}
	cpus_read_unlock();
	if (last)
		hvx_crash_set_virt(false);
	mutex_unlock(&hvx_virt_lock);
}

/*
 * cpuhp callbacks run on the CPU concerned with the hotplug lock held for
 * writing, so hvx_virt_users cannot change under them.
 */
static int hvx_cpu_online(unsigned int cpu)
{
	if (!hvx_virt_users || hvx_rebooting)
		return 0;
	hvx_cpu_enable(NULL);
	if (!__this_cpu_read(hvx_cpu_on)) {
		pr_err("cannot enable virtualization on CPU %u\n", cpu);
		return -EBUSY;
	}
	return 0;
}

static int hvx_cpu_offline(unsigned int cpu)
{
	hvx_cpu_disable(NULL);
	return 0;
}

/*
 * Leave VMX/SVM before reboot or kexec: firmware and the next kernel must
 * find the CPUs as they would without hvx (SDM Vol 3 24.11, APM Vol 2 15.4).
 */
static int hvx_reboot(struct notifier_block *nb, unsigned long code, void *unused)
{
	hvx_rebooting = true;
	on_each_cpu(hvx_cpu_disable, NULL, 1);
	return NOTIFY_OK;
}

static struct notifier_block hvx_reboot_nb = {
	.notifier_call = hvx_reboot,
};

bool hvx_is_rebooting(void)
{
	return READ_ONCE(hvx_rebooting);
}

static const struct file_operations hvx_dev_fops = {
	.owner		= THIS_MODULE,
	.unlocked_ioctl	= hvx_dev_ioctl,
	.compat_ioctl	= hvx_dev_ioctl,
	.llseek		= noop_llseek,
};

static struct miscdevice hvx_dev = {
	.minor	= MISC_DYNAMIC_MINOR,
	.name	= "hvx",
	.fops	= &hvx_dev_fops,
	.mode	= 0666,
};

static const struct hvx_backend_ops *const hvx_backends[] = {
	&hvx_svm_ops,
	&hvx_vmx_ops,
};

static int hvx_pick_backend(void)
{
	int i;

	for (i = 0; i < ARRAY_SIZE(hvx_backends); i++) {
		if (!hvx_backends[i]->hardware_setup()) {
			hvx_ops = hvx_backends[i];
			return 0;
		}
	}
	return -ENODEV;
}

static int __init hvx_init(void)
{
	int r;

	r = hvx_pick_backend();
	if (r) {
		pr_err("no usable hardware virtualization (AMD SVM with NPT, or Intel VMX with EPT and unrestricted guest) found\n");
		return r;
	}
	r = hvx_fpu_init();
	if (r)
		goto err_unsetup;
	r = hvx_irqfd_module_init();
	if (r)
		goto err_unsetup;
	r = cpuhp_setup_state_nocalls(CPUHP_AP_ONLINE_DYN, "hvx:online",
				      hvx_cpu_online, hvx_cpu_offline);
	if (r < 0)
		goto err_irqfd;
	hvx_cpuhp_state = r;
	register_reboot_notifier(&hvx_reboot_nb);
	hvx_crash_init();
	preempt_notifier_inc();
	hvx_debugfs_init();
	r = misc_register(&hvx_dev);
	if (r)
		goto err_misc;
	pr_info("loaded, %s backend\n", hvx_ops->name);
	return 0;

err_misc:
	hvx_debugfs_exit();
	preempt_notifier_dec();
	hvx_crash_exit();
	unregister_reboot_notifier(&hvx_reboot_nb);
	cpuhp_remove_state_nocalls(hvx_cpuhp_state);
err_irqfd:
	hvx_irqfd_module_exit();
err_unsetup:
	hvx_ops->hardware_unsetup();
	return r;
}

static void __exit hvx_exit(void)
{
	long leaked;

	misc_deregister(&hvx_dev);
	hvx_debugfs_exit();
	preempt_notifier_dec();
	hvx_crash_exit();
	unregister_reboot_notifier(&hvx_reboot_nb);
	cpuhp_remove_state_nocalls(hvx_cpuhp_state);
	hvx_irqfd_module_exit();
	hvx_ops->hardware_unsetup();
	leaked = hvx_pages_in_use();
	if (leaked)
		pr_err("%ld pages leaked\n", leaked);
}

module_init(hvx_init);
module_exit(hvx_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("hvx: a small KVM-API-compatible hypervisor");
