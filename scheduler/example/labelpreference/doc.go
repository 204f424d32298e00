// Package labelpreference is an example out-of-tree plugin. At Filter it
// keeps pods off nodes labelled with its avoid label; at Score it prefers
// nodes carrying its preferred label. It imports only the scheduler's
// public framework and the proto module, as any plugin author would.
package labelpreference
