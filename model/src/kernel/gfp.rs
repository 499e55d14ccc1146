//! include/linux/gfp.h: the allocation flags the modelled allocations pass (each site names the
//! kernel's). `GFP_KERNEL` and `GFP_USER` may sleep (`__GFP_WAIT`); `GFP_ATOMIC` may not.

use crate::sim::cx::AllocFlags;

/// `GFP_KERNEL` (`__GFP_WAIT | __GFP_IO | __GFP_FS`, gfp.h:78): may sleep to reclaim.
pub const GFP_KERNEL: AllocFlags = AllocFlags {
    name: "GFP_KERNEL",
    may_sleep: true,
};

/// `GFP_USER` (`GFP_KERNEL | __GFP_HARDWALL`, gfp.h:81): may sleep.
pub const GFP_USER: AllocFlags = AllocFlags {
    name: "GFP_USER",
    may_sleep: true,
};

/// `GFP_ATOMIC` (`__GFP_HIGH`, gfp.h:75): never sleeps.
pub const GFP_ATOMIC: AllocFlags = AllocFlags {
    name: "GFP_ATOMIC",
    may_sleep: false,
};
