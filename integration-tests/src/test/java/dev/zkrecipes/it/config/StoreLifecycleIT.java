package dev.zkrecipes.it.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.zkrecipes.config.ConfigStore;
import dev.zkrecipes.config.FileMetadata;
import dev.zkrecipes.config.FileMetadataStore;
import dev.zkrecipes.core.ZkRecipes;
import dev.zkrecipes.testing.EmbeddedZk;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Stores can be listed and deleted; listing creates nothing; nested file store names are refused. */
class StoreLifecycleIT {

    @RegisterExtension
    static final EmbeddedZk zk = EmbeddedZk.withClients(1);

    private static ZkRecipes client() {
        return zk.client(0);
    }

    @Test
    void configStoresAreListedAndDeletedAndListingCreatesNothing() throws Exception {
        assertThat(ConfigStore.names(client())).isEmpty();
        assertThat(client().curator().checkExists().forPath("/zkr/config")).isNull();
        try (ConfigStore billing = ConfigStore.open(client(), "billing");
                ConfigStore eu = ConfigStore.open(client(), "billing/eu")) {
            billing.put("a", "1");
            eu.put("b", "2");
            assertThat(ConfigStore.names(client())).containsExactly("billing", "billing/eu");

            assertThat(ConfigStore.deleteStore(client(), "billing")).isTrue();
            assertThat(ConfigStore.names(client())).containsExactly("billing/eu");
            assertThat(ConfigStore.deleteStore(client(), "missing")).isFalse();
        }
        try (ConfigStore reopened = ConfigStore.open(client(), "billing")) {
            assertThat(reopened.snapshot()).isEmpty();
        }
    }

    @Test
    void fileStoresAreListedDeletedAndMayNotNest() throws Exception {
        try (FileMetadataStore warehouse = FileMetadataStore.open(client(), "warehouse")) {
            warehouse.create("/raw/a", FileMetadata.builder().size(1).build());
            assertThat(FileMetadataStore.names(client())).containsExactly("warehouse");
            assertThatThrownBy(() -> FileMetadataStore.open(client(), "warehouse/eu"))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("must not nest");
        }
        assertThat(FileMetadataStore.deleteStore(client(), "warehouse")).isTrue();
        assertThat(FileMetadataStore.names(client())).isEmpty();
        assertThat(FileMetadataStore.deleteStore(client(), "warehouse")).isFalse();
    }
}
