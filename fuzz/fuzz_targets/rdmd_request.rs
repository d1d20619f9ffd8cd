//! Arbitrary bytes on rdmd's control socket: frame and request decoding
//! never panic, and whatever decodes is re-encoded to the same request.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rlvm::backend::userspace::protocol::{read_frame, write_frame, Request};

fuzz_target!(|data: &[u8]| {
    let mut input = data;
    // A stream may hold several frames; read until one fails or it ends.
    while let Ok(Some(request)) = read_frame::<Request>(&mut input) {
        let mut encoded = Vec::new();
        write_frame(&mut encoded, &request).expect("a decoded request encodes");
        let again: Request = read_frame(&mut encoded.as_slice())
            .expect("re-encoded frame decodes")
            .expect("one frame");
        assert_eq!(again, request);
    }
});
