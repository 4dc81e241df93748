//! A tiny HTTP/1.1 client over `std::net::TcpStream`.
//!
//! It sends the request target exactly as given (no normalisation, no encoding) and keeps the
//! raw response headers, so a test sees exactly what the front server sent.

use std::fmt;
use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

/// A parsed response: status, headers in the order received, and the body (chunked decoded).
#[derive(Clone)]
pub struct Response {
    /// The status code.
    pub status: u16,
    /// The header lines, names as sent.
    pub headers: Vec<(String, Vec<u8>)>,
    /// The body (empty for HEAD, 304 and 204).
    pub body: Vec<u8>,
    /// The request line, for messages.
    pub request: String,
}

impl Response {
    /// The first value of header `name` (case-insensitive), as lossy UTF-8.
    pub fn header(&self, name: &str) -> Option<String> {
        self.header_bytes(name)
            .map(|v| String::from_utf8_lossy(v).into_owned())
    }

    /// The first value of header `name` (case-insensitive), raw.
    pub fn header_bytes(&self, name: &str) -> Option<&[u8]> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_slice())
    }

    /// Whether the body contains `needle` anywhere.
    pub fn body_contains(&self, needle: &[u8]) -> bool {
        !needle.is_empty() && self.body.windows(needle.len()).any(|w| w == needle)
    }
}

impl fmt::Debug for Response {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{} -> {}", self.request, self.status)?;
        for (n, v) in &self.headers {
            writeln!(f, "  {n}: {}", String::from_utf8_lossy(v))?;
        }
        let shown = &self.body[..self.body.len().min(200)];
        write!(
            f,
            "  body ({} bytes): {:?}",
            self.body.len(),
            String::from_utf8_lossy(shown)
        )
    }
}

/// A request to send.
#[derive(Debug, Clone)]
pub struct Request {
    method: String,
    target: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Request {
    /// `GET target`; `target` is sent verbatim.
    pub fn get(target: impl Into<String>) -> Self {
        Request::new("GET", target)
    }

    /// `HEAD target`.
    pub fn head(target: impl Into<String>) -> Self {
        Request::new("HEAD", target)
    }

    /// Any method.
    pub fn new(method: &str, target: impl Into<String>) -> Self {
        Request {
            method: method.to_owned(),
            target: target.into(),
            headers: Vec::new(),
            body: Vec::new(),
        }
    }

    /// Adds a header.
    #[must_use]
    pub fn header(mut self, name: &str, value: impl Into<String>) -> Self {
        self.headers.push((name.to_owned(), value.into()));
        self
    }

    /// Sets the request body (sent with its `Content-Length`).
    #[must_use]
    pub fn body(mut self, body: impl Into<Vec<u8>>) -> Self {
        self.body = body.into();
        self
    }

    /// Adds `Authorization: Basic` for `user:password`.
    #[must_use]
    pub fn basic_auth(self, user: &str, password: &str) -> Self {
        let token = base64_encode(format!("{user}:{password}").as_bytes());
        self.header("Authorization", format!("Basic {token}"))
    }

    /// Sends the request to `addr` on a new connection (`Connection: close`) and reads the
    /// whole response.
    pub fn send(&self, addr: SocketAddr) -> io::Result<Response> {
        let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(5))?;
        stream.set_read_timeout(Some(Duration::from_secs(20)))?;
        stream.set_write_timeout(Some(Duration::from_secs(20)))?;
        let mut req = format!(
            "{} {} HTTP/1.1\r\nHost: {addr}\r\n",
            self.method, self.target
        );
        for (n, v) in &self.headers {
            req.push_str(&format!("{n}: {v}\r\n"));
        }
        if !self.body.is_empty() || self.method == "PUT" {
            req.push_str(&format!("Content-Length: {}\r\n", self.body.len()));
        }
        req.push_str("Connection: close\r\n\r\n");
        stream.write_all(req.as_bytes())?;
        stream.write_all(&self.body)?;
        let mut raw = Vec::new();
        stream.read_to_end(&mut raw)?;
        parse_response(
            &raw,
            self.method == "HEAD",
            format!("{} {}", self.method, self.target),
        )
    }
}

fn bad(msg: impl Into<String>) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, msg.into())
}

fn parse_response(raw: &[u8], head: bool, request: String) -> io::Result<Response> {
    let end = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| {
            bad(format!(
                "{request}: no end of headers in {} bytes",
                raw.len()
            ))
        })?;
    let head_text = &raw[..end];
    let mut lines = head_text
        .split(|&b| b == b'\n')
        .map(|l| l.strip_suffix(b"\r").unwrap_or(l));
    let status_line = String::from_utf8_lossy(lines.next().unwrap_or_default()).into_owned();
    let status = status_line
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| bad(format!("{request}: bad status line {status_line:?}")))?;
    let mut headers = Vec::new();
    for line in lines {
        let colon = line
            .iter()
            .position(|&b| b == b':')
            .ok_or_else(|| bad(format!("{request}: bad header line")))?;
        let name = String::from_utf8_lossy(&line[..colon]).trim().to_owned();
        let value = line[colon + 1..].trim_ascii().to_vec();
        headers.push((name, value));
    }
    let mut response = Response {
        status,
        headers,
        body: Vec::new(),
        request,
    };
    let rest = &raw[end + 4..];
    if head || status == 304 || status == 204 || (100..200).contains(&status) {
        if !rest.is_empty() {
            return Err(bad(format!(
                "{}: {} unexpected bytes after a bodiless response",
                response.request,
                rest.len()
            )));
        }
        return Ok(response);
    }
    let chunked = response
        .header("Transfer-Encoding")
        .is_some_and(|v| v.to_ascii_lowercase().contains("chunked"));
    if chunked {
        response.body =
            decode_chunked(rest).map_err(|e| bad(format!("{}: {e}", response.request)))?;
    } else if let Some(len) = response.header("Content-Length") {
        let len: usize = len.parse().map_err(|_| bad("bad Content-Length"))?;
        if rest.len() != len {
            return Err(bad(format!(
                "{}: Content-Length {len} but {} body bytes",
                response.request,
                rest.len()
            )));
        }
        response.body = rest.to_vec();
    } else {
        response.body = rest.to_vec();
    }
    Ok(response)
}

fn decode_chunked(mut data: &[u8]) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    loop {
        let line_end = data
            .windows(2)
            .position(|w| w == b"\r\n")
            .ok_or("truncated chunk size")?;
        let size_text = String::from_utf8_lossy(&data[..line_end]);
        let size_text = size_text.split(';').next().unwrap_or_default().trim();
        let size = usize::from_str_radix(size_text, 16).map_err(|_| "bad chunk size")?;
        data = &data[line_end + 2..];
        if size == 0 {
            return Ok(out);
        }
        if data.len() < size + 2 {
            return Err("truncated chunk".into());
        }
        out.extend_from_slice(&data[..size]);
        data = &data[size + 2..];
    }
}

/// Percent-encodes every byte outside `A-Z a-z 0-9 - . _ ~ /`, for a request target.
pub fn encode_path(path: &[u8]) -> String {
    let mut s = String::with_capacity(path.len() * 3);
    for &b in path {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'/') {
            s.push(b as char);
        } else {
            s.push_str(&format!("%{b:02X}"));
        }
    }
    s
}

/// Decodes `%XX` sequences.
pub fn percent_decode(s: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() {
        if s[i] == b'%' && i + 2 < s.len() {
            let hex = std::str::from_utf8(&s[i + 1..i + 3]).ok();
            if let Some(b) = hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(s[i]);
        i += 1;
    }
    out
}

/// Standard base64 with padding.
pub fn base64_encode(input: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(input.len().div_ceil(3) * 4);
    for chunk in input.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Splits a `multipart/byteranges` body into `(Content-Range value, part bytes)` pairs.
pub fn multipart_parts(content_type: &str, body: &[u8]) -> Result<Vec<(String, Vec<u8>)>, String> {
    let boundary = content_type
        .split(';')
        .map(str::trim)
        .find_map(|p| p.strip_prefix("boundary="))
        .ok_or("no boundary")?
        .trim_matches('"');
    let delimiter = format!("--{boundary}");
    let delim = delimiter.as_bytes();
    let mut parts = Vec::new();
    let mut positions = Vec::new();
    let mut i = 0;
    while i + delim.len() <= body.len() {
        if &body[i..i + delim.len()] == delim {
            positions.push(i);
            i += delim.len();
        } else {
            i += 1;
        }
    }
    for pair in positions.windows(2) {
        let part = &body[pair[0] + delim.len()..pair[1]];
        let part = part.strip_prefix(b"\r\n").ok_or("part without CRLF")?;
        let end = part
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .ok_or("part without headers end")?;
        let headers = String::from_utf8_lossy(&part[..end]);
        let range = headers
            .lines()
            .find_map(|l| {
                let (n, v) = l.split_once(':')?;
                n.trim()
                    .eq_ignore_ascii_case("content-range")
                    .then(|| v.trim().to_owned())
            })
            .ok_or("part without Content-Range")?;
        let data = &part[end + 4..];
        let data = data
            .strip_suffix(b"\r\n")
            .ok_or("part without trailing CRLF")?;
        parts.push((range, data.to_vec()));
    }
    Ok(parts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_rfc4648() {
        assert_eq!(base64_encode(b""), "");
        assert_eq!(base64_encode(b"f"), "Zg==");
        assert_eq!(base64_encode(b"fo"), "Zm8=");
        assert_eq!(base64_encode(b"foo"), "Zm9v");
        assert_eq!(base64_encode(b"foobar"), "Zm9vYmFy");
    }

    #[test]
    fn encode_and_decode_round_trip() {
        let name = "a b%41?#+\"';ü/x".as_bytes();
        let enc = encode_path(name);
        assert_eq!(enc, "a%20b%2541%3F%23%2B%22%27%3B%C3%BC/x");
        assert_eq!(percent_decode(enc.as_bytes()), name);
    }

    #[test]
    fn parses_chunked_and_multipart() {
        let body = b"\r\n--XX\r\nContent-Range: bytes 0-1/9\r\n\r\nab\r\n--XX--\r\n";
        let (a, b) = body.split_at(10);
        let mut raw = b"HTTP/1.1 206 Partial\r\nTransfer-Encoding: chunked\r\n\
            Content-Type: multipart/byteranges; boundary=XX\r\n\r\n"
            .to_vec();
        for chunk in [a, b] {
            raw.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
            raw.extend_from_slice(chunk);
            raw.extend_from_slice(b"\r\n");
        }
        raw.extend_from_slice(b"0\r\n\r\n");
        let r = parse_response(&raw, false, "GET /".into()).unwrap();
        assert_eq!(r.status, 206);
        let parts = multipart_parts(&r.header("content-type").unwrap(), &r.body).unwrap();
        assert_eq!(parts, vec![("bytes 0-1/9".to_owned(), b"ab".to_vec())]);
    }
}
