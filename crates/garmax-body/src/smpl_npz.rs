//! Loader for an official SMPL model in its `.npz` layout (`v_template`,
//! `shapedirs`, `posedirs`, `J_regressor`, `weights`, `kintree_table`, `f`),
//! for users who hold a SMPL licence; we cannot ship those files.
//!
//! The archive and arrays are read by a minimal zip + `.npy` reader (stored
//! or deflated members, little-endian numeric dtypes, C order), which keeps
//! the dependency footprint at `flate2` and turns every malformed byte into
//! a typed error.

use std::collections::HashMap;
use std::io::Read;
use std::path::Path;

use crate::assets;
use crate::error::{BodyError, Result};
use crate::model::{BodyModel, BodyPart, KeypointDef, NUM_BETAS, NUM_SMPL_JOINTS, V3, top4};

/// A numeric array from a `.npy` file, converted to f64.
#[derive(Debug, Clone, PartialEq)]
pub struct NpyArray {
    pub shape: Vec<usize>,
    pub data: Vec<f64>,
}

fn u16_at(b: &[u8], o: usize) -> Option<u16> {
    b.get(o..o + 2).map(|s| u16::from_le_bytes([s[0], s[1]]))
}
fn u32_at(b: &[u8], o: usize) -> Option<u32> {
    b.get(o..o + 4)
        .map(|s| u32::from_le_bytes([s[0], s[1], s[2], s[3]]))
}
fn u64_at(b: &[u8], o: usize) -> Option<u64> {
    b.get(o..o + 8)
        .map(|s| u64::from_le_bytes(s.try_into().unwrap_or([0; 8])))
}

/// Reads every member of a zip archive (stored or deflate).
pub fn read_zip(bytes: &[u8], name: &str) -> Result<HashMap<String, Vec<u8>>> {
    let bad = |m: &str| BodyError::malformed(name, m.to_string());
    // End of central directory: last occurrence of its signature.
    let eocd = (0..bytes.len().saturating_sub(21))
        .rev()
        .find(|&i| u32_at(bytes, i) == Some(0x0605_4b50))
        .ok_or_else(|| bad("not a zip archive"))?;
    let count = u16_at(bytes, eocd + 10).ok_or_else(|| bad("truncated"))? as usize;
    let mut off = u32_at(bytes, eocd + 16).ok_or_else(|| bad("truncated"))? as u64;
    let mut count64 = count as u64;
    if off == 0xFFFF_FFFF || count == 0xFFFF {
        // Zip64 end-of-central-directory locator precedes the EOCD.
        let loc = eocd.checked_sub(20).ok_or_else(|| bad("truncated zip64"))?;
        if u32_at(bytes, loc) != Some(0x0706_4b50) {
            return Err(bad("missing zip64 locator"));
        }
        let z = u64_at(bytes, loc + 8).ok_or_else(|| bad("truncated"))? as usize;
        if u32_at(bytes, z) != Some(0x0606_4b50) {
            return Err(bad("bad zip64 record"));
        }
        count64 = u64_at(bytes, z + 32).ok_or_else(|| bad("truncated"))?;
        off = u64_at(bytes, z + 48).ok_or_else(|| bad("truncated"))?;
    }
    let mut out = HashMap::new();
    let mut p = off as usize;
    for _ in 0..count64 {
        if u32_at(bytes, p) != Some(0x0201_4b50) {
            return Err(bad("bad central directory"));
        }
        let method = u16_at(bytes, p + 10).ok_or_else(|| bad("truncated"))?;
        let mut csize = u32_at(bytes, p + 20).ok_or_else(|| bad("truncated"))? as u64;
        let mut usize_ = u32_at(bytes, p + 24).ok_or_else(|| bad("truncated"))? as u64;
        let nlen = u16_at(bytes, p + 28).ok_or_else(|| bad("truncated"))? as usize;
        let elen = u16_at(bytes, p + 30).ok_or_else(|| bad("truncated"))? as usize;
        let clen = u16_at(bytes, p + 32).ok_or_else(|| bad("truncated"))? as usize;
        let mut local = u32_at(bytes, p + 42).ok_or_else(|| bad("truncated"))? as u64;
        let fname = bytes
            .get(p + 46..p + 46 + nlen)
            .ok_or_else(|| bad("truncated"))?;
        let fname = String::from_utf8_lossy(fname).into_owned();
        // Zip64 extra field carries the sizes/offset that overflowed.
        let extra = bytes
            .get(p + 46 + nlen..p + 46 + nlen + elen)
            .ok_or_else(|| bad("truncated"))?;
        let mut e = 0;
        while e + 4 <= extra.len() {
            let id = u16_at(extra, e).unwrap_or(0);
            let len = u16_at(extra, e + 2).unwrap_or(0) as usize;
            if id == 1 {
                let mut q = e + 4;
                if usize_ == 0xFFFF_FFFF {
                    usize_ = u64_at(extra, q).ok_or_else(|| bad("bad zip64 extra"))?;
                    q += 8;
                }
                if csize == 0xFFFF_FFFF {
                    csize = u64_at(extra, q).ok_or_else(|| bad("bad zip64 extra"))?;
                    q += 8;
                }
                if local == 0xFFFF_FFFF {
                    local = u64_at(extra, q).ok_or_else(|| bad("bad zip64 extra"))?;
                }
            }
            e += 4 + len;
        }
        p += 46 + nlen + elen + clen;
        let l = local as usize;
        if u32_at(bytes, l) != Some(0x0403_4b50) {
            return Err(bad("bad local header"));
        }
        let lnlen = u16_at(bytes, l + 26).ok_or_else(|| bad("truncated"))? as usize;
        let lelen = u16_at(bytes, l + 28).ok_or_else(|| bad("truncated"))? as usize;
        let start = l + 30 + lnlen + lelen;
        let data = bytes
            .get(start..start + csize as usize)
            .ok_or_else(|| bad("member runs past the end"))?;
        let content = match method {
            0 => data.to_vec(),
            8 => {
                // Refuse absurd sizes before allocating (a zip bomb guard).
                if usize_ > 8 << 30 {
                    return Err(bad("member too large"));
                }
                let mut v = Vec::with_capacity(usize_ as usize);
                flate2::read::DeflateDecoder::new(data)
                    .read_to_end(&mut v)
                    .map_err(|e| bad(&format!("deflate: {e}")))?;
                v
            }
            m => return Err(bad(&format!("unsupported compression method {m}"))),
        };
        out.insert(fname, content);
    }
    Ok(out)
}

/// Parses a `.npy` file (format 1.0–3.0).
pub fn parse_npy(bytes: &[u8], name: &str) -> Result<NpyArray> {
    let bad = |m: &str| BodyError::malformed(name, m.to_string());
    if bytes.get(..6) != Some(b"\x93NUMPY") {
        return Err(bad("not an npy array"));
    }
    let major = *bytes.get(6).ok_or_else(|| bad("truncated"))?;
    let (hlen, hstart) = if major == 1 {
        (
            u16_at(bytes, 8).ok_or_else(|| bad("truncated"))? as usize,
            10,
        )
    } else {
        (
            u32_at(bytes, 8).ok_or_else(|| bad("truncated"))? as usize,
            12,
        )
    };
    let header = bytes
        .get(hstart..hstart + hlen)
        .ok_or_else(|| bad("truncated header"))?;
    let header = String::from_utf8_lossy(header);
    let field = |key: &str| -> Option<String> {
        let i = header.find(&format!("'{key}'"))?;
        let rest = header[i + key.len() + 2..]
            .trim_start()
            .strip_prefix(':')?
            .trim_start();
        Some(rest.to_string())
    };
    let descr = field("descr").ok_or_else(|| bad("no descr"))?;
    let descr = descr
        .trim_start_matches('\'')
        .split('\'')
        .next()
        .unwrap_or("")
        .to_string();
    let fortran = field("fortran_order").is_some_and(|f| f.starts_with("True"));
    if fortran {
        return Err(bad("Fortran-ordered arrays are not supported"));
    }
    let shape_s = field("shape").ok_or_else(|| bad("no shape"))?;
    let inner = shape_s
        .trim_start_matches('(')
        .split(')')
        .next()
        .unwrap_or("");
    let shape: Vec<usize> = inner
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| s.parse().map_err(|_| bad("bad shape")))
        .collect::<Result<_>>()?;
    let count = shape
        .iter()
        .try_fold(1usize, |a, &d| a.checked_mul(d))
        .ok_or_else(|| bad("shape overflows"))?;
    let body = &bytes[hstart + hlen..];
    let (size, conv): (usize, fn(&[u8]) -> f64) = match descr.as_str() {
        "<f8" => (8, |b| f64::from_le_bytes(b.try_into().unwrap_or([0; 8]))),
        "<f4" => (4, |b| {
            f32::from_le_bytes(b.try_into().unwrap_or([0; 4])) as f64
        }),
        "<i8" => (8, |b| {
            i64::from_le_bytes(b.try_into().unwrap_or([0; 8])) as f64
        }),
        "<u8" => (8, |b| {
            u64::from_le_bytes(b.try_into().unwrap_or([0; 8])) as f64
        }),
        "<i4" => (4, |b| {
            i32::from_le_bytes(b.try_into().unwrap_or([0; 4])) as f64
        }),
        "<u4" => (4, |b| {
            u32::from_le_bytes(b.try_into().unwrap_or([0; 4])) as f64
        }),
        "|u1" | "|i1" | "|b1" => (1, |b| b[0] as f64),
        d => return Err(bad(&format!("unsupported dtype {d}"))),
    };
    let need = count
        .checked_mul(size)
        .ok_or_else(|| bad("size overflows"))?;
    if body.len() < need {
        return Err(bad("data shorter than its shape"));
    }
    Ok(NpyArray {
        shape,
        data: body[..need].chunks_exact(size).map(conv).collect(),
    })
}

/// Well-known SMPL (6890-vertex) vertex ids of face and foot landmarks, as
/// used by OpenPose-to-SMPL mappings: nose, eyes, ears, big toes, heels.
const SMPL_NOSE: u32 = 332;
const SMPL_EYES: [u32; 2] = [2800, 6260];
const SMPL_EARS: [u32; 2] = [583, 4071];
const SMPL_TOES: [u32; 2] = [3216, 6617];
const SMPL_HEELS: [u32; 2] = [3387, 6787];

impl BodyModel {
    /// Loads an official SMPL `.npz` (any gender). Fewer than 10 shape
    /// directions are zero-padded; pose-corrective blend shapes are used
    /// when present.
    pub fn load_smpl_npz(path: &Path) -> Result<BodyModel> {
        let bytes = assets::read_bytes(path)?;
        Self::smpl_from_npz_bytes(&bytes, &path.display().to_string())
    }

    /// [`Self::load_smpl_npz`] on bytes already in memory.
    pub fn smpl_from_npz_bytes(bytes: &[u8], name: &str) -> Result<BodyModel> {
        let files = read_zip(bytes, name)?;
        let get = |key: &str| -> Result<NpyArray> {
            let f = files
                .get(&format!("{key}.npy"))
                .ok_or_else(|| BodyError::malformed(name, format!("missing {key}")))?;
            parse_npy(f, &format!("{name}:{key}"))
        };
        let bad = |m: String| BodyError::malformed(name, m);
        let vt = get("v_template")?;
        if vt.shape.len() != 2 || vt.shape[1] != 3 || vt.shape[0] == 0 {
            return Err(bad(format!("v_template shape {:?}", vt.shape)));
        }
        let nv = vt.shape[0];
        let sd = get("shapedirs")?;
        if sd.shape.len() != 3 || sd.shape[0] != nv || sd.shape[1] != 3 {
            return Err(bad(format!("shapedirs shape {:?}", sd.shape)));
        }
        let ns = sd.shape[2];
        let jr = get("J_regressor")?;
        if jr.shape != [NUM_SMPL_JOINTS, nv] {
            return Err(bad(format!("J_regressor shape {:?}", jr.shape)));
        }
        let wt = get("weights")?;
        if wt.shape != [nv, NUM_SMPL_JOINTS] {
            return Err(bad(format!("weights shape {:?}", wt.shape)));
        }
        let kt = get("kintree_table")?;
        if kt.shape != [2, NUM_SMPL_JOINTS] {
            return Err(bad(format!("kintree_table shape {:?}", kt.shape)));
        }
        let f = get("f")?;
        if f.shape.len() != 2 || f.shape[1] != 3 {
            return Err(bad(format!("f shape {:?}", f.shape)));
        }
        let pose_dirs = match files.contains_key("posedirs.npy") {
            true => {
                let pd = get("posedirs")?;
                if pd.shape != [nv, 3, 207] {
                    return Err(bad(format!("posedirs shape {:?}", pd.shape)));
                }
                Some(pd.data.iter().map(|&v| v as f32).collect())
            }
            false => None,
        };
        let all_finite = [&vt, &sd, &jr, &wt]
            .iter()
            .all(|a| a.data.iter().all(|v| v.is_finite()));
        if !all_finite {
            return Err(bad("non-finite values".into()));
        }
        let template: Vec<V3> = (0..nv)
            .map(|i| V3::new(vt.data[3 * i], vt.data[3 * i + 1], vt.data[3 * i + 2]))
            .collect();
        let shape_dirs: Vec<[V3; NUM_BETAS]> = (0..nv)
            .map(|i| {
                std::array::from_fn(|k| {
                    if k >= ns {
                        return V3::zeros();
                    }
                    V3::new(
                        sd.data[(i * 3) * ns + k],
                        sd.data[(i * 3 + 1) * ns + k],
                        sd.data[(i * 3 + 2) * ns + k],
                    )
                })
            })
            .collect();
        let mut joint_template = vec![V3::zeros(); NUM_SMPL_JOINTS];
        let mut joint_shape_dirs = vec![[V3::zeros(); NUM_BETAS]; NUM_SMPL_JOINTS];
        for j in 0..NUM_SMPL_JOINTS {
            for i in 0..nv {
                let w = jr.data[j * nv + i];
                if w == 0.0 {
                    continue;
                }
                joint_template[j] += template[i] * w;
                for k in 0..NUM_BETAS {
                    joint_shape_dirs[j][k] += shape_dirs[i][k] * w;
                }
            }
        }
        let parents: Vec<Option<usize>> = (0..NUM_SMPL_JOINTS)
            .map(|j| {
                let p = kt.data[j];
                (p >= 0.0 && (p as usize) < j).then_some(p as usize)
            })
            .collect();
        if parents.iter().skip(1).any(Option::is_none) {
            return Err(bad(
                "kintree_table is not parents-first with a single root".into()
            ));
        }
        let mut faces = Vec::with_capacity(f.shape[0]);
        for t in f.data.chunks_exact(3) {
            if t.iter().any(|&i| i < 0.0 || i as usize >= nv) {
                return Err(bad("face index out of range".into()));
            }
            faces.push([t[0] as u32, t[1] as u32, t[2] as u32]);
        }
        let (skin_joints, skin_weights): (Vec<_>, Vec<_>) = (0..nv)
            .map(|i| {
                top4(
                    (0..NUM_SMPL_JOINTS)
                        .map(|j| (j as u16, wt.data[i * NUM_SMPL_JOINTS + j] as f32))
                        .collect(),
                    0,
                )
            })
            .unzip();
        let vertex_parts: Vec<BodyPart> = skin_joints
            .iter()
            .map(|j| BodyPart::from_smpl_joint(j[0] as usize))
            .collect();
        let j = KeypointDef::Joint;
        let official = nv == 6890;
        let v = |id: u32, fallback: usize| {
            if official {
                KeypointDef::Vertex(id)
            } else {
                KeypointDef::Joint(fallback)
            }
        };
        // SMPL joints: 15 head, 16/17 shoulders, 18/19 elbows, 20/21 wrists,
        // 22/23 hands, 1/2 hips, 4/5 knees, 7/8 ankles, 10/11 feet.
        let keypoints = [
            v(SMPL_NOSE, 15),
            v(SMPL_EYES[0], 15),
            v(SMPL_EYES[0], 15),
            v(SMPL_EYES[0], 15),
            v(SMPL_EYES[1], 15),
            v(SMPL_EYES[1], 15),
            v(SMPL_EYES[1], 15),
            v(SMPL_EARS[0], 15),
            v(SMPL_EARS[1], 15),
            v(SMPL_NOSE, 15),
            v(SMPL_NOSE, 15),
            j(16),
            j(17),
            j(18),
            j(19),
            j(20),
            j(21),
            j(22),
            j(23),
            j(22),
            j(23),
            j(22),
            j(23),
            j(1),
            j(2),
            j(4),
            j(5),
            j(7),
            j(8),
            v(SMPL_HEELS[0], 7),
            v(SMPL_HEELS[1], 8),
            v(SMPL_TOES[0], 10),
            v(SMPL_TOES[1], 11),
        ];
        let model = BodyModel {
            name: "smpl".into(),
            template,
            shape_dirs,
            pose_dirs,
            faces,
            uvs: Vec::new(),
            face_uvs: Vec::new(),
            joint_names: crate::model::SMPL_JOINT_NAMES
                .iter()
                .map(|s| s.to_string())
                .collect(),
            parents,
            joint_template,
            joint_shape_dirs,
            rig_driver: (0..NUM_SMPL_JOINTS).map(Some).collect(),
            smpl_joint: std::array::from_fn(|i| i),
            skin_joints,
            skin_weights,
            vertex_parts,
            keypoints,
            shape_info: None,
        };
        model.validate()?;
        Ok(model)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::model::{BodyParams, SMPL_PARENTS};

    fn npy(descr: &str, shape: &[usize], payload: Vec<u8>) -> Vec<u8> {
        let dims: Vec<String> = shape.iter().map(|d| d.to_string()).collect();
        let shape_s = if shape.len() == 1 {
            format!("({},)", dims[0])
        } else {
            format!("({})", dims.join(", "))
        };
        let mut header =
            format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape_s}, }}");
        while (10 + header.len() + 1) % 64 != 0 {
            header.push(' ');
        }
        header.push('\n');
        let mut out = b"\x93NUMPY\x01\x00".to_vec();
        out.extend_from_slice(&(header.len() as u16).to_le_bytes());
        out.extend_from_slice(header.as_bytes());
        out.extend_from_slice(&payload);
        out
    }

    fn npy_f8(shape: &[usize], data: &[f64]) -> Vec<u8> {
        npy(
            "<f8",
            shape,
            data.iter().flat_map(|v| v.to_le_bytes()).collect(),
        )
    }

    fn npy_i4(shape: &[usize], data: &[i32]) -> Vec<u8> {
        npy(
            "<i4",
            shape,
            data.iter().flat_map(|v| v.to_le_bytes()).collect(),
        )
    }

    /// A stored (uncompressed) zip, as `numpy.savez` writes.
    pub fn zip_stored(files: &[(&str, Vec<u8>)]) -> Vec<u8> {
        let mut out = Vec::new();
        let mut central = Vec::new();
        for (name, data) in files {
            let mut crc = flate2::Crc::new();
            crc.update(data);
            let off = out.len() as u32;
            out.extend_from_slice(&0x0403_4b50u32.to_le_bytes());
            out.extend_from_slice(&[20, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
            out.extend_from_slice(&crc.sum().to_le_bytes());
            out.extend_from_slice(&(data.len() as u32).to_le_bytes());
            out.extend_from_slice(&(data.len() as u32).to_le_bytes());
            out.extend_from_slice(&(name.len() as u16).to_le_bytes());
            out.extend_from_slice(&0u16.to_le_bytes());
            out.extend_from_slice(name.as_bytes());
            out.extend_from_slice(data);
            central.extend_from_slice(&0x0201_4b50u32.to_le_bytes());
            central.extend_from_slice(&[20, 0, 20, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
            central.extend_from_slice(&crc.sum().to_le_bytes());
            central.extend_from_slice(&(data.len() as u32).to_le_bytes());
            central.extend_from_slice(&(data.len() as u32).to_le_bytes());
            central.extend_from_slice(&(name.len() as u16).to_le_bytes());
            central.extend_from_slice(&[0; 12]);
            central.extend_from_slice(&off.to_le_bytes());
            central.extend_from_slice(name.as_bytes());
        }
        let cd_off = out.len() as u32;
        out.extend_from_slice(&central);
        out.extend_from_slice(&0x0605_4b50u32.to_le_bytes());
        out.extend_from_slice(&[0, 0, 0, 0]);
        out.extend_from_slice(&(files.len() as u16).to_le_bytes());
        out.extend_from_slice(&(files.len() as u16).to_le_bytes());
        out.extend_from_slice(&(central.len() as u32).to_le_bytes());
        out.extend_from_slice(&cd_off.to_le_bytes());
        out.extend_from_slice(&0u16.to_le_bytes());
        out
    }

    /// A tiny SMPL-layout body: one vertex per joint at the joint position
    /// plus one offset vertex, each rigidly bound to its joint.
    fn tiny_smpl(with_posedirs: bool) -> Vec<u8> {
        let nj = NUM_SMPL_JOINTS;
        let nv = 2 * nj;
        let joint_pos = |j: usize| [j as f64 * 0.01, 1.0 - j as f64 * 0.05, 0.0];
        let mut vt = Vec::new();
        for v in 0..nv {
            let p = joint_pos(v % nj);
            vt.extend_from_slice(&[p[0], p[1], if v >= nj { 0.1 } else { 0.0 }]);
        }
        let mut sd = vec![0.0; nv * 3 * 4];
        for v in 0..nv {
            sd[(v * 3 + 1) * 4] = 0.01 * v as f64; // β0 stretches in y
        }
        let mut jr = vec![0.0; nj * nv];
        for j in 0..nj {
            jr[j * nv + j] = 1.0;
        }
        let mut w = vec![0.0; nv * nj];
        for v in 0..nv {
            w[v * nj + v % nj] = 1.0;
        }
        let mut kt = vec![-1i32; 2 * nj];
        for j in 0..nj {
            kt[j] = SMPL_PARENTS[j].map_or(-1, |p| p as i32);
            kt[nj + j] = j as i32;
        }
        let mut f = Vec::new();
        for j in 0..nj - 1 {
            f.extend_from_slice(&[j as i32, (j + 1) as i32, (j + nj) as i32]);
        }
        let mut files = vec![
            ("v_template.npy", npy_f8(&[nv, 3], &vt)),
            ("shapedirs.npy", npy_f8(&[nv, 3, 4], &sd)),
            ("J_regressor.npy", npy_f8(&[nj, nv], &jr)),
            ("weights.npy", npy_f8(&[nv, nj], &w)),
            ("kintree_table.npy", npy_i4(&[2, nj], &kt)),
            ("f.npy", npy_i4(&[nj - 1, 3], &f)),
        ];
        if with_posedirs {
            files.push((
                "posedirs.npy",
                npy_f8(&[nv, 3, 207], &vec![0.0; nv * 3 * 207]),
            ));
        }
        zip_stored(&files)
    }

    #[test]
    fn loads_tiny_synthetic_smpl() {
        let bytes = tiny_smpl(true);
        let m = BodyModel::smpl_from_npz_bytes(&bytes, "tiny.npz").unwrap();
        assert_eq!(m.vertex_count(), 48);
        assert_eq!(m.joint_names().len(), 24);
        // θ = 0 reproduces the template.
        let posed = m.pose(&BodyParams::default());
        assert!((posed.vertices[30][2] - 0.1).abs() < 1e-6);
        // β0 moves vertices as its direction says.
        let mut p = BodyParams::default();
        p.beta[0] = 1.0;
        let shaped = m.shaped_vertices(&p.beta);
        assert!((shaped[10][1] - (posed.vertices[10][1] + 0.1)).abs() < 1e-5);
        // Rotating the left elbow (18) by 90° about y swings its offset
        // vertex around the joint; the joint itself stays put.
        let mut p = BodyParams::default();
        p.pose[18] = [0.0, std::f64::consts::FRAC_PI_2, 0.0];
        let posed2 = m.pose(&p);
        let v = posed2.vertices[24 + 18];
        let jn = posed2.smpl_joints[18];
        assert!((v[0] - jn[0] - 0.1).abs() < 1e-5, "{v:?} {jn:?}");
        assert!((v[2] - jn[2]).abs() < 1e-5);
        assert_eq!(posed2.smpl_joints[18], posed.smpl_joints[18]);
    }

    #[test]
    fn malformed_npz_is_a_typed_error() {
        let good = tiny_smpl(false);
        assert!(BodyModel::smpl_from_npz_bytes(&good, "ok").is_ok());
        for cut in [0, 10, good.len() / 2, good.len() - 5] {
            let e = BodyModel::smpl_from_npz_bytes(&good[..cut], "cut").unwrap_err();
            assert!(matches!(e, BodyError::AssetMalformed { .. }), "{e}");
        }
        let missing = zip_stored(&[("v_template.npy", npy_f8(&[1, 3], &[0.0; 3]))]);
        assert!(BodyModel::smpl_from_npz_bytes(&missing, "m").is_err());
        assert!(parse_npy(b"\x93NUMPY\x01\x00\x10\x00{'descr': '<c16'", "x").is_err());
        assert!(BodyModel::load_smpl_npz(Path::new("/nonexistent.npz")).is_err());
    }
}
