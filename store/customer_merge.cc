#include "customer_merge.h"

#include <string_view>
#include <vector>

#include "juncture/runtime/pieces.h"

namespace juncture::store {

bool CustomerMerge::FullMergeV2(const MergeOperationInput& in, MergeOperationOutput* out) const {
  std::vector<std::string_view> pieces;
  pieces.reserve(in.operand_list.size() + 1);
  if (in.existing_value != nullptr) pieces.push_back(in.existing_value->ToStringView());
  for (const rocksdb::Slice& s : in.operand_list) pieces.push_back(s.ToStringView());
  // False (a malformed piece) makes the read fail, or stops the store's background
  // work: loud, and never a silently wrong customer.
  return runtime::pieces::Fold(pieces, /*bottom=*/true, out->new_value);
}

bool CustomerMerge::PartialMergeMulti(const rocksdb::Slice& /*key*/,
                                      const std::deque<rocksdb::Slice>& operands,
                                      std::string* new_value, rocksdb::Logger* /*logger*/) const {
  std::vector<std::string_view> pieces;
  pieces.reserve(operands.size());
  for (const rocksdb::Slice& s : operands) pieces.push_back(s.ToStringView());
  // False here only leaves the changes unfolded, to be folded when read.
  return runtime::pieces::Fold(pieces, /*bottom=*/false, *new_value);
}

}  // namespace juncture::store
