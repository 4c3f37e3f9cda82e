// serve/streams.h: which stream subjects cover which consumed or published subjects.
#include "streams.h"  // serve/, a private header of juncture_serve

#include <gtest/gtest.h>

namespace juncture::serve {
namespace {

TEST(SubjectCovers, LiteralsCoverOnlyThemselves) {
  EXPECT_TRUE(SubjectCovers("juncture.events.web", "juncture.events.web"));
  EXPECT_FALSE(SubjectCovers("juncture.events.web", "juncture.events.app"));
  EXPECT_FALSE(SubjectCovers("juncture.events.web", "juncture.events.>"));
  EXPECT_FALSE(SubjectCovers("juncture.events.web", "juncture.events.*"));
  EXPECT_FALSE(SubjectCovers("juncture.events", "juncture.events.web"));
}

TEST(SubjectCovers, AStarCoversOneTokenOfAnyKindButNotATail) {
  EXPECT_TRUE(SubjectCovers("juncture.events.*", "juncture.events.web"));
  EXPECT_TRUE(SubjectCovers("juncture.events.*", "juncture.events.*"));
  EXPECT_TRUE(SubjectCovers("juncture.*.web", "juncture.events.web"));
  EXPECT_FALSE(SubjectCovers("juncture.events.*", "juncture.events.>"));
  EXPECT_FALSE(SubjectCovers("juncture.events.*", "juncture.events.web.eu"));
  EXPECT_FALSE(SubjectCovers("juncture.events.*", "juncture.events"));
}

TEST(SubjectCovers, AGreaterThanCoversEveryTailOfAtLeastOneToken) {
  EXPECT_TRUE(SubjectCovers("juncture.>", "juncture.events.>"));
  EXPECT_TRUE(SubjectCovers("juncture.events.>", "juncture.events.>"));
  EXPECT_TRUE(SubjectCovers("juncture.events.>", "juncture.events.*"));
  EXPECT_TRUE(SubjectCovers("juncture.events.>", "juncture.events.web.eu"));
  EXPECT_TRUE(SubjectCovers(">", "juncture.actions.email"));
  EXPECT_FALSE(SubjectCovers("juncture.events.>", "juncture.events"));
  EXPECT_FALSE(SubjectCovers("juncture.events.>", "juncture.>"));
  EXPECT_FALSE(SubjectCovers("juncture.actions.>", "juncture.events.web"));
}

}  // namespace
}  // namespace juncture::serve
