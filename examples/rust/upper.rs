//! upper.so - a transform written in Rust with no crates: it upper-cases
//! the string field named by its argument (default "name").
//!
//!   rustc --edition 2021 -O --crate-type cdylib upper.rs -o upper.so
//!   etl-map ./upper.so city < people.ndjson
//!
//! The descriptor and the context mirror etl.h's C structs (#[repr(C)]);
//! jansson's functions are declared here and resolved from the libjansson
//! that etl-map has loaded.

use std::ffi::{c_char, c_int, c_void, CStr, CString};

#[repr(C)]
pub struct EtlHost {
    size: usize,
    emit: extern "C" fn(*mut EtlContext, *mut c_void) -> c_int,
    set_reason: *const c_void,
    where_: *const c_void,
}

#[repr(C)]
pub struct EtlContext {
    host: *const EtlHost,
    state: *mut c_void,
}

#[repr(C)]
pub struct EtlTransform {
    size: usize,
    abi_version: u32,
    name: *const c_char,
    description: *const c_char,
    init: Option<extern "C" fn(*mut EtlContext, c_int, *mut *mut c_char) -> c_int>,
    map: Option<extern "C" fn(*mut EtlContext, *mut c_void) -> c_int>,
    finish: Option<extern "C" fn(*mut EtlContext) -> c_int>,
    cleanup: Option<extern "C" fn(*mut EtlContext)>,
}

unsafe impl Sync for EtlTransform {}

extern "C" {
    fn json_object_get(object: *const c_void, key: *const c_char) -> *mut c_void;
    fn json_string_value(string: *const c_void) -> *const c_char;
    fn json_string(value: *const c_char) -> *mut c_void;
    fn json_object_set_new(object: *mut c_void, key: *const c_char, value: *mut c_void) -> c_int;
    fn json_copy(value: *mut c_void) -> *mut c_void;
}

const ETL_OK: c_int = 0;

extern "C" fn init(ctx: *mut EtlContext, argc: c_int, argv: *mut *mut c_char) -> c_int {
    let field = if argc > 0 {
        unsafe { CStr::from_ptr(*argv) }.to_owned()
    } else {
        CString::new("name").unwrap()
    };
    unsafe { (*ctx).state = field.into_raw() as *mut c_void };
    ETL_OK
}

extern "C" fn map(ctx: *mut EtlContext, record: *mut c_void) -> c_int {
    unsafe {
        let field = (*ctx).state as *const c_char;
        let value = json_string_value(json_object_get(record, field));
        if !value.is_null() {
            let upper = CStr::from_ptr(value).to_string_lossy().to_uppercase();
            let upper = CString::new(upper).unwrap_or_default();
            json_object_set_new(record, field, json_string(upper.as_ptr()));
        }
        // emit steals the reference it is given, and the record is only
        // borrowed: json_incref is inline C, so emit a (shallow) copy.
        ((*(*ctx).host).emit)(ctx, json_copy(record))
    }
}

extern "C" fn cleanup(ctx: *mut EtlContext) {
    unsafe {
        if !(*ctx).state.is_null() {
            drop(CString::from_raw((*ctx).state as *mut c_char));
        }
    }
}

#[no_mangle]
pub static etl_transform: EtlTransform = EtlTransform {
    size: std::mem::size_of::<EtlTransform>(),
    abi_version: 1,
    name: b"upper\0".as_ptr() as *const c_char,
    description: b"upper-case one string field\0".as_ptr() as *const c_char,
    init: Some(init),
    map: Some(map),
    finish: None,
    cleanup: Some(cleanup),
};
