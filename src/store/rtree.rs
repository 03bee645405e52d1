//! Packing a SQLite R*Tree in one pass, for a large batch written into an empty one.
//!
//! SQLite's `rtree` module inserts one box at a time (choose a leaf, split, reinsert): about 8 µs a box,
//! most of a 100,000-plot import's write on SQLite. An empty tree can instead be written whole: the
//! boxes sorted into full nodes (Sort-Tile-Recursive), the nodes written straight into the module's
//! shadow tables (`_node`, `_parent`, `_rowid`), as GDAL does for GeoPackages. The layout is SQLite's
//! (`ext/rtree/rtree.c`): a node is a blob of the root node's length, a 2-byte depth (the root only) and a
//! 2-byte cell count, then cells of an 8-byte id and, per dimension, a 4-byte minimum and maximum, all
//! big-endian; coordinates are `f32` rounded outwards, as the module rounds them. `rtreecheck()` accepts
//! the result (tested).

/// The shadow tables' rows of a packed two-dimensional tree.
#[derive(Debug, Default)]
pub(crate) struct Packed {
    /// `(nodeno, data)`; node 1 is the root.
    pub nodes: Vec<(i64, Vec<u8>)>,
    /// `(nodeno, parentnode)` of every node but the root.
    pub parents: Vec<(i64, i64)>,
    /// `(rowid, nodeno)`: the leaf holding each box.
    pub rowids: Vec<(i64, i64)>,
}

/// A cell: a row's or a child node's id, and its box as stored `[min_x, max_x, min_y, max_y]`.
#[derive(Debug, Clone, Copy)]
struct Cell {
    id: i64,
    b: [f32; 4],
}

impl Cell {
    fn centre(&self, axis: usize) -> f32 {
        (self.b[2 * axis] + self.b[2 * axis + 1]) / 2.0
    }
}

/// The largest `f32` not above `d`.
fn down(d: f64) -> f32 {
    let f = d as f32;
    if f64::from(f) > d { f.next_down() } else { f }
}

/// The smallest `f32` not below `d`.
fn up(d: f64) -> f32 {
    let f = d as f32;
    if f64::from(f) < d { f.next_up() } else { f }
}

/// Packs `boxes` (`(rowid, [min_lon, min_lat, max_lon, max_lat])`, degrees) into a tree whose nodes are
/// `node_bytes` long (the length of the empty tree's root blob: 1,228 bytes, 51 cells, for two
/// dimensions on SQLite's default page size).
pub(crate) fn pack(boxes: &[(i64, [f64; 4])], node_bytes: usize) -> Packed {
    let capacity = (node_bytes.saturating_sub(4) / 24).max(2);
    let mut level: Vec<Cell> = boxes
        .iter()
        .map(|(id, b)| Cell { id: *id, b: [down(b[0]), up(b[2]), down(b[1]), up(b[3])] })
        .collect();
    let mut packed = Packed::default();
    let mut next_node = 2;
    let mut depth: u16 = 0;
    loop {
        sort_tile_recursive(&mut level, capacity);
        if level.len() <= capacity {
            packed.nodes.push((1, node(node_bytes, Some(depth), &level)));
            link(&mut packed, depth, &level, 1);
            return packed;
        }
        // As many nodes as needed, filled evenly (none nearly empty).
        let count = level.len().div_ceil(capacity);
        let (base, longer) = (level.len() / count, level.len() % count);
        let mut above = Vec::with_capacity(count);
        let mut rest = level.as_slice();
        for k in 0..count {
            let (cells, after) = rest.split_at(base + usize::from(k < longer));
            rest = after;
            let nodeno = next_node;
            next_node += 1;
            packed.nodes.push((nodeno, node(node_bytes, None, cells)));
            link(&mut packed, depth, cells, nodeno);
            above.push(Cell { id: nodeno, b: union(cells) });
        }
        level = above;
        depth += 1;
    }
}

/// Records which node holds `cells`: rows of a leaf (`depth` 0), else child nodes.
fn link(packed: &mut Packed, depth: u16, cells: &[Cell], nodeno: i64) {
    let target = if depth == 0 { &mut packed.rowids } else { &mut packed.parents };
    target.extend(cells.iter().map(|c| (c.id, nodeno)));
}

/// The box around `cells`.
fn union(cells: &[Cell]) -> [f32; 4] {
    cells.iter().fold([f32::INFINITY, f32::NEG_INFINITY, f32::INFINITY, f32::NEG_INFINITY], |a, c| {
        [a[0].min(c.b[0]), a[1].max(c.b[1]), a[2].min(c.b[2]), a[3].max(c.b[3])]
    })
}

/// Orders cells so that each run of `capacity` lies close together: sorted by x into vertical slices of
/// about √(nodes) nodes each, each slice sorted by y.
fn sort_tile_recursive(cells: &mut [Cell], capacity: usize) {
    let nodes = cells.len().div_ceil(capacity);
    let slices = (nodes as f64).sqrt().ceil().max(1.0) as usize;
    cells.sort_unstable_by(|a, b| a.centre(0).total_cmp(&b.centre(0)));
    for slice in cells.chunks_mut(slices * capacity) {
        slice.sort_unstable_by(|a, b| a.centre(1).total_cmp(&b.centre(1)));
    }
}

/// A node's blob: the depth (root only), the cell count, the cells, zeros to `node_bytes`.
fn node(node_bytes: usize, depth: Option<u16>, cells: &[Cell]) -> Vec<u8> {
    let mut data = Vec::with_capacity(node_bytes);
    data.extend_from_slice(&depth.unwrap_or(0).to_be_bytes());
    data.extend_from_slice(&(cells.len() as u16).to_be_bytes());
    for c in cells {
        data.extend_from_slice(&c.id.to_be_bytes());
        c.b.iter().for_each(|v| data.extend_from_slice(&v.to_bits().to_be_bytes()));
    }
    data.resize(node_bytes, 0);
    data
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn boxes_are_rounded_outwards_and_every_row_lands_in_one_leaf() {
        assert!(f64::from(down(106.1)) <= 106.1 && f64::from(up(106.1)) >= 106.1);
        assert!(f64::from(down(-0.3)) <= -0.3 && f64::from(up(-0.3)) >= -0.3);
        assert_eq!(down(2.0), 2.0);
        let boxes: Vec<(i64, [f64; 4])> = (1..=10_000)
            .map(|k| {
                let (x, y) = (106.0 + (k % 100) as f64 * 1e-3, 21.0 + (k / 100) as f64 * 1e-3);
                (k, [x, y, x + 8e-4, y + 8e-4])
            })
            .collect();
        let packed = pack(&boxes, 1228);
        assert_eq!(packed.rowids.len(), 10_000);
        assert!(packed.nodes.iter().all(|(_, data)| data.len() == 1228));
        // 10,000 boxes: 197 leaves of ≤ 51, 4 nodes above them, the root: depth 2.
        let root = &packed.nodes.iter().find(|(n, _)| *n == 1).unwrap().1;
        assert_eq!((u16::from_be_bytes([root[0], root[1]]), u16::from_be_bytes([root[2], root[3]])), (2, 4));
        assert_eq!(packed.parents.len(), packed.nodes.len() - 1);
        let mut rows: Vec<i64> = packed.rowids.iter().map(|(r, _)| *r).collect();
        rows.sort_unstable();
        assert_eq!(rows, (1..=10_000).collect::<Vec<_>>());
    }
}
