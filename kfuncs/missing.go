package kfuncs

// notSimulated lists, with the reason, the kfuncs Linux 6.18 offers XDP programs that xdpsim does
// not provide (measured: kernel/kfuncs_offered_test.go loads a call of every kfunc of the kernel's
// BTF and holds this list to what the kernel accepts). The README lists them too.
var notSimulated = map[string]string{}

func init() {
	for reason, names := range map[string][]string{
		"is what compilers emit for __builtin_trap(); the verifier refuses a call that can run": {
			"__bpf_trap"},
		"casts to kernel types (struct xdp_buff, any BTF type), whose objects the simulator does not lay out": {
			"bpf_cast_to_kern_ctx", "bpf_rdonly_cast"},
		"needs the host's cgroups": {
			"bpf_cgroup_acquire", "bpf_cgroup_ancestor", "bpf_cgroup_from_id", "bpf_cgroup_read_xattr",
			"bpf_cgroup_release", "bpf_iter_css_new", "bpf_iter_css_next", "bpf_iter_css_destroy",
			"bpf_iter_css_task_new", "bpf_iter_css_task_next", "bpf_iter_css_task_destroy"},
		"needs kernel tasks": {
			"bpf_task_acquire", "bpf_task_release", "bpf_task_from_pid", "bpf_task_from_vpid",
			"bpf_task_get_cgroup1", "bpf_task_under_cgroup", "bpf_send_signal_task",
			"bpf_task_work_schedule_resume_impl", "bpf_task_work_schedule_signal_impl",
			"bpf_iter_task_new", "bpf_iter_task_next", "bpf_iter_task_destroy",
			"bpf_iter_task_vma_new", "bpf_iter_task_vma_next", "bpf_iter_task_vma_destroy"},
		"may sleep, and no XDP program can (\"program must be sleepable\", measured)": {
			"bpf_copy_from_user_dynptr", "bpf_copy_from_user_str", "bpf_copy_from_user_str_dynptr",
			"bpf_copy_from_user_task_dynptr", "bpf_copy_from_user_task_str",
			"bpf_copy_from_user_task_str_dynptr", "bpf_iter_dmabuf_new", "bpf_iter_dmabuf_next",
			"bpf_iter_dmabuf_destroy", "bpf_iter_kmem_cache_new", "bpf_iter_kmem_cache_next",
			"bpf_iter_kmem_cache_destroy", "bpf_lookup_user_key"},
		"needs crypto contexts, which only syscall programs create": {
			"bpf_crypto_encrypt", "bpf_crypto_decrypt"},
		"hands out kernel objects (slab caches, keys, maps) the simulator does not lay out": {
			"bpf_get_kmem_cache", "bpf_key_put", "bpf_lookup_system_key", "bpf_map_sum_elem_count"},
		"belongs to allocated objects (bpf_obj_new) and their lists, trees and reference counts, which the simulator does not provide": {
			"bpf_obj_new_impl", "bpf_obj_drop_impl", "bpf_percpu_obj_new_impl", "bpf_percpu_obj_drop_impl",
			"bpf_refcount_acquire_impl", "bpf_list_push_front_impl", "bpf_list_push_back_impl",
			"bpf_list_pop_front", "bpf_list_pop_back", "bpf_list_front", "bpf_list_back",
			"bpf_rbtree_add_impl", "bpf_rbtree_remove", "bpf_rbtree_first", "bpf_rbtree_root",
			"bpf_rbtree_left", "bpf_rbtree_right"},
		"is a kernel self-test function": {
			"bpf_modify_return_test_tp"},
		"is not simulated yet (the helpers bpf_probe_read_kernel/user and bpf_dynptr_write are)": {
			"bpf_probe_read_kernel_dynptr", "bpf_probe_read_kernel_str_dynptr",
			"bpf_probe_read_user_dynptr", "bpf_probe_read_user_str_dynptr"},
		"is a resilient spin lock, not simulated yet (bpf_spin_lock is)": {
			"bpf_res_spin_lock", "bpf_res_spin_unlock", "bpf_res_spin_lock_irqsave",
			"bpf_res_spin_unlock_irqrestore"},
		"is one of the string kfuncs of Linux 6.17+, not simulated yet (the helpers bpf_strncmp, bpf_strtol and bpf_strtoul are)": {
			"bpf_strlen", "bpf_strnlen", "bpf_strcmp", "bpf_strcasecmp", "bpf_strchr", "bpf_strchrnul",
			"bpf_strnchr", "bpf_strrchr", "bpf_strspn", "bpf_strcspn", "bpf_strstr", "bpf_strnstr"},
		"iterates over a bitmask: not simulated yet (bpf_iter_num is)": {
			"bpf_iter_bits_new", "bpf_iter_bits_next", "bpf_iter_bits_destroy"},
		"writes to BPF streams, which the simulator does not provide": {
			"bpf_stream_vprintk_impl"},
		"throws a BPF exception, which the simulator does not unwind": {
			"bpf_throw"},
		"runs work queue callbacks in process context, which the simulator does not schedule (bpf_timer it does)": {
			"bpf_wq_init", "bpf_wq_set_callback_impl", "bpf_wq_start"},
	} {
		for _, n := range names {
			notSimulated[n] = reason
		}
	}
}

// NotSimulated lists the kfuncs Linux 6.18 offers XDP programs that xdpsim does not provide (a fresh map),
// each with the reason ("needs kernel tasks").
func NotSimulated() map[string]string {
	out := make(map[string]string, len(notSimulated))
	for n, why := range notSimulated {
		out[n] = why
	}
	return out
}
