// Host tests of the NVMe passthrough driver: the data-structure decoders against buffers laid
// out here byte by byte from the specifications' tables (an oracle independent of the decoder),
// the status -> errno table against the kernel's, and the driver's refusals of what is not an
// NVMe namespace. The device itself is judged in the VM (nvme_passthru_vm_test).
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <vector>

#include <gtest/gtest.h>

#include "nvme_device.h"
#include "nvme_spec.h"
#include "zbl/backend.h"

namespace zbl::nvme {
namespace {

void Put(std::vector<uint8_t>& b, size_t off, uint64_t v, size_t bytes) {
  for (size_t i = 0; i < bytes; ++i) b[off + i] = static_cast<uint8_t>(v >> (8 * i));
}

TEST(NvmeSpec, IdentifyNamespaceTakesTheFormatInUse) {
  std::vector<uint8_t> b(4096, 0);
  Put(b, 0, 0x40000, 8);      // NSZE
  b[25] = 2;                  // NLBAF: 3 formats
  b[26] = 0x01;               // FLBAS: format 1
  Put(b, 128 + 0, 0, 2);      // format 0: 512 bytes
  b[128 + 2] = 9;
  Put(b, 128 + 4, 8, 2);      // format 1: 4096 bytes, 8 metadata bytes
  b[128 + 4 + 2] = 12;
  IdNamespace ns;
  std::string why;
  ASSERT_TRUE(ParseIdNamespace(b, ns, why)) << why;
  EXPECT_EQ(ns.nsze, 0x40000u);
  EXPECT_EQ(ns.lbaf_index, 1);
  EXPECT_EQ(ns.lba_bytes, 4096u);
  EXPECT_EQ(ns.metadata_bytes, 8);
}

TEST(NvmeSpec, IdentifyNamespaceRefusesAFormatBeyondTheList) {
  std::vector<uint8_t> b(4096, 0);
  b[25] = 0;     // one format
  b[26] = 0x03;  // format 3 in use
  IdNamespace ns;
  std::string why;
  EXPECT_FALSE(ParseIdNamespace(b, ns, why));
  EXPECT_NE(why.find("LBA format 3"), std::string::npos) << why;
  EXPECT_FALSE(ParseIdNamespace(std::span<const uint8_t>(b.data(), 100), ns, why));
}

TEST(NvmeSpec, ZnsIdentifyFieldsAtTheirOffsets) {
  std::vector<uint8_t> b(4096, 0);
  Put(b, 0, 0x1, 2);            // ZOC: variable capacity
  Put(b, 2, 0x2, 2);            // OZCS: ZRWA supported
  Put(b, 4, 5, 4);              // MAR 0's based: 6 active
  Put(b, 8, 3, 4);              // MOR 0's based: 4 open
  Put(b, 12, 7, 4);             // RRL
  Put(b, 16, 9, 4);             // FRL
  Put(b, 44, 1, 4);             // NUMZRWA 0's based: 2
  Put(b, 48, 4, 2);             // ZRWAFG
  Put(b, 50, 16, 2);            // ZRWASZ
  b[52] = 1;                    // ZRWACAP explicit flush
  Put(b, 2816 + 16 * 1, 2048, 8);  // LBAFE[1].ZSZE
  b[2816 + 16 * 1 + 8] = 2;        // ZDES: 128 bytes
  IdZnsNamespace z;
  std::string why;
  ASSERT_TRUE(ParseIdZnsNamespace(b, 1, z, why)) << why;
  EXPECT_EQ(z.max_active(), 6u);
  EXPECT_EQ(z.max_open(), 4u);
  EXPECT_EQ(z.rrl, 7u);
  EXPECT_EQ(z.frl, 9u);
  EXPECT_TRUE(z.zrwa_supported());
  EXPECT_EQ(z.numzrwa, 1u);
  EXPECT_EQ(z.zrwafg, 4);
  EXPECT_EQ(z.zrwasz, 16);
  EXPECT_EQ(z.zrwacap, 1);
  EXPECT_EQ(z.zsze, 2048u);
  EXPECT_EQ(z.zdes_bytes, 128u);
  // No limit is all ones, not a count.
  Put(b, 4, 0xffffffff, 4);
  Put(b, 8, 0xffffffff, 4);
  ASSERT_TRUE(ParseIdZnsNamespace(b, 1, z, why));
  EXPECT_EQ(z.max_active(), 0u);
  EXPECT_EQ(z.max_open(), 0u);
  // Format 0 has no zone size here: refused.
  EXPECT_FALSE(ParseIdZnsNamespace(b, 0, z, why));
}

TEST(NvmeSpec, IdentifyControllerStringsAreTrimmed) {
  std::vector<uint8_t> b(4096, ' ');
  const std::string sn = "zbl-zns-0", mn = "QEMU NVMe Ctrl", fr = "10.0.2";
  std::copy(sn.begin(), sn.end(), b.begin() + 4);
  std::copy(mn.begin(), mn.end(), b.begin() + 24);
  std::copy(fr.begin(), fr.end(), b.begin() + 64);
  b[77] = 7;
  IdController c;
  std::string why;
  ASSERT_TRUE(ParseIdController(b, c, why));
  EXPECT_EQ(c.serial, sn);
  EXPECT_EQ(c.model, mn);
  EXPECT_EQ(c.firmware, fr);
  EXPECT_EQ(c.mdts, 7);
}

TEST(NvmeSpec, ExtendedZoneReportCarriesEachExtension) {
  const size_t ext = 64;
  std::vector<uint8_t> b(64 + 2 * (64 + ext), 0);
  Put(b, 0, 2, 8);  // NRZ
  for (size_t i = 0; i < 2; ++i) {
    size_t o = 64 + i * (64 + ext);
    b[o] = 0x2;                      // ZT: sequential write required
    b[o + 1] = i == 0 ? 0x30 : 0xe0;  // ZS: explicitly open / full
    b[o + 2] = i == 0 ? 0x88 : 0x01;  // ZA: ZRWAV|ZDEV / ZFC
    Put(b, o + 8, 1536, 8);          // ZCAP
    Put(b, o + 16, 2048 * i, 8);     // ZSLBA
    Put(b, o + 24, 2048 * i + 100, 8);
    b[o + 64] = static_cast<uint8_t>(0xa0 + i);
  }
  std::vector<ZoneDescriptor> zones;
  std::string why;
  ASSERT_TRUE(ParseZoneReport(b, ext, zones, why)) << why;
  ASSERT_EQ(zones.size(), 2u);
  EXPECT_EQ(zones[0].state, 0x3);
  EXPECT_EQ(zones[0].attrs, za::kZrwaValid | za::kExtensionValid);
  EXPECT_EQ(zones[1].state, 0xe);
  EXPECT_EQ(zones[1].attrs, za::kFinishedByController);
  EXPECT_EQ(zones[1].start, 2048u);
  EXPECT_EQ(zones[1].wp, 2148u);
  EXPECT_EQ(zones[0].capacity, 1536u);
  ASSERT_EQ(zones[1].extension.size(), ext);
  EXPECT_EQ(zones[1].extension[0], 0xa1);
  // A count the buffer cannot hold is refused, not read past the end.
  Put(b, 0, 3, 8);
  EXPECT_FALSE(ParseZoneReport(b, ext, zones, why));
  EXPECT_NE(why.find("3 zones"), std::string::npos) << why;
}

// The errno of each status as Linux's nvme_error_status + blk_status_to_errno give it.
TEST(NvmeSpec, StatusErrnoFollowsTheKernelsTable) {
  auto e = [](uint16_t raw) { return StatusErrno(NvmeStatus{raw}); };
  EXPECT_EQ(e(0), 0);
  EXPECT_EQ(e(sc::kZoneTooManyOpen), ETOOMANYREFS);
  EXPECT_EQ(e(sc::kZoneTooManyActive | 0x4000), EOVERFLOW);  // DNR does not change it
  EXPECT_EQ(e(sc::kZoneInvalidWrite), EIO);
  EXPECT_EQ(e(sc::kZoneBoundaryError), EIO);
  EXPECT_EQ(e(sc::kZoneFull), EIO);
  EXPECT_EQ(e(sc::kZoneInvalidTransition), EIO);
  EXPECT_EQ(e(sc::kInvalidField), EOPNOTSUPP);
  EXPECT_EQ(e(sc::kInvalidOpcode), EOPNOTSUPP);
  EXPECT_EQ(e(sc::kLbaRange), EREMOTEIO);
  EXPECT_EQ(e(sc::kCapacityExceeded), ENOSPC);
  EXPECT_EQ(e(sc::kUnrecoveredReadError), ENODATA);
  EXPECT_EQ(DescribeStatus(NvmeStatus{sc::kZoneInvalidWrite | 0x4000}),
            "NVMe status SCT 0x1 SC 0xbc (Zone Invalid Write), DNR");
}

TEST(NvmePassthruDriver, RefusesWhatIsNotAnNvmeNamespace) {
  char path[] = "/tmp/zbl-nvme-XXXXXX";
  int fd = ::mkstemp(path);
  ASSERT_GE(fd, 0);
  ::close(fd);
  auto regular = Backend::Open(std::string("driver=nvme_passthru,filename=") + path);
  ::unlink(path);
  ASSERT_FALSE(regular.ok());
  EXPECT_EQ(regular.status().code(), EINVAL) << regular.status().ToString();
  EXPECT_NE(regular.status().ToString().find("/dev/ngXnY"), std::string::npos);

  auto null_dev = Backend::Open("driver=nvme_passthru,filename=/dev/null");
  ASSERT_FALSE(null_dev.ok());
  EXPECT_NE(null_dev.status().ToString().find("not an NVMe namespace"), std::string::npos)
      << null_dev.status().ToString();

  auto missing = Backend::Open("driver=nvme_passthru,filename=/nonexistent/ng9n9");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), ENOENT);

  auto no_file = Backend::Open("driver=nvme_passthru");
  ASSERT_FALSE(no_file.ok());
  EXPECT_NE(no_file.status().ToString().find("filename"), std::string::npos);

  auto bad_nsid = Backend::Open("driver=nvme_passthru,filename=/dev/null,nsid=x");
  ASSERT_FALSE(bad_nsid.ok());
  EXPECT_NE(bad_nsid.status().ToString().find("nsid"), std::string::npos);
}

}  // namespace
}  // namespace zbl::nvme
