// The state store's merge operator for customers (docs/state.md, "Formats"): a
// customer's stored piece and the changes written over it are pieces of the second
// form (juncture/runtime/pieces.h), which RocksDB folds together when it reads the
// key, flushes its memtable or compacts: off the thread that commits.
#pragma once

#include <rocksdb/merge_operator.h>

#include <deque>
#include <string>

namespace juncture::store {

class CustomerMerge : public rocksdb::MergeOperator {
 public:
  // Stored in the store's options file: a change of the fold's meaning needs a new
  // name (and a new leading byte of the pieces).
  const char* Name() const override { return "juncture.customer.1"; }
  // The stored piece (if any) with the changes over it, oldest first.
  bool FullMergeV2(const MergeOperationInput& in, MergeOperationOutput* out) const override;
  // Changes over a piece not at hand, folded into one change.
  bool PartialMergeMulti(const rocksdb::Slice& key, const std::deque<rocksdb::Slice>& operands,
                         std::string* new_value, rocksdb::Logger* logger) const override;
};

}  // namespace juncture::store
