import CRetortKernels

/// Tunes glibc's allocator for this process: activation arrays of a few hundred kilobytes are
/// allocated and freed layer after layer, and by default glibc maps each one afresh and unmaps it
/// on free, so every forward pass page-faults its activations in again. Keeping freed memory for
/// reuse removes that cost. The libraries leave this choice to the program that uses them.
func tuneAllocator() {
    retort_keep_freed_memory()
}
